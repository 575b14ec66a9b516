"""Logs, metrics, error tracking and health checks."""
