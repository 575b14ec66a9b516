"""Authentication: passwords, tokens, login sessions and the current principal."""
