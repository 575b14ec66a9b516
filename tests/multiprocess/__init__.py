"""Several real app processes sharing one database and one Redis."""
