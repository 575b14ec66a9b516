"""Reminders: when to tell a user about a task, kept until the live-updates worker delivers them."""
