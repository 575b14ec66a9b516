"""Cross-cutting HTTP: request ids, body limits, conditional requests."""
