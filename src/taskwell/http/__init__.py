"""Cross-cutting HTTP: request ids, limits, headers, conditional requests."""

# Every feature router carries the full prefix itself, so a route's path is its complete
# template (/api/v1/tasks/{task_id}) for logs and metric labels.
API_V1 = "/api/v1"
