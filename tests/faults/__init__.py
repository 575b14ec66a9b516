"""Behaviour when a backing service fails, against real processes."""
