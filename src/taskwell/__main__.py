"""`python -m taskwell` runs the same command as `taskwell`."""

from taskwell.cli import app

app(prog_name="taskwell")
