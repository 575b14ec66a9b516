"""Full-text search over tasks and their comments."""
