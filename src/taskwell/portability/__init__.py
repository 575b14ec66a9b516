"""Import and export: a user's data as one JSON document (tasks also as CSV), its import, and
the import of a Todoist project's CSV."""
