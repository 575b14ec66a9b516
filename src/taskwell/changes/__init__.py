"""The change feed: one row per change to something a user may see, written in the same
transaction as the change. Incremental sync (and the live event stream's replay) read it."""
