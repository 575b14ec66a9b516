"""Each task's history: who changed what, and when."""
