"""Tasks: the owner's to-do items."""
