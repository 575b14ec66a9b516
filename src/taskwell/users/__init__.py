"""People: accounts and their profiles."""
