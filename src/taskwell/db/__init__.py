"""Database access: engine and pool, column types, prepared reads, pagination cursors."""
