"""The problems task routes and the features built on tasks answer with."""

from taskwell.errors import Forbidden, NotFound, VersionMismatch


class TaskNotFound(NotFound):
    """Also the answer for a task in a project the caller is not a member of: whether such a
    task exists is not theirs to learn."""

    slug, title, status = "task-not-found", "Task not found", 404


class VersionConflict(VersionMismatch):
    """If-Match named an older version."""


class RoleTooLow(Forbidden):
    """A member of the project whose role does not allow this (a viewer editing, say)."""

    slug, title, status = "insufficient-role", "Your role in this project does not allow this", 403
