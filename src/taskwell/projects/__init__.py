"""Projects, their sections, and who may do what in them."""
