"""The problems an import or export answers with, besides the limits of projects and labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from taskwell.errors import Conflict, DomainError

# An answer names at most this many problems: enough to fix a file, not a second copy of it.
MAX_REPORTED = 50


@dataclass(frozen=True, slots=True)
class Problem:
    """One invalid thing in an import: where (a JSON path such as "tasks[3].title", or a CSV
    row and column), and what is wrong with it."""

    field: str
    message: str
    code: str
    row: int | None = None


class InvalidImport(DomainError):
    """The same problem type and `errors` shape as every other invalid body."""

    slug, title, status = "validation-error", "The request is not valid", 422

    def __init__(self, problems: Sequence[Problem]) -> None:
        shown = problems[:MAX_REPORTED]
        errors = []
        for problem in shown:
            error: dict[str, object] = {
                "field": problem.field,
                "in": "body",
                "message": problem.message,
                "code": problem.code,
            }
            if problem.row is not None:
                error["row"] = problem.row
            errors.append(error)
        first = shown[0]
        where = f"row {first.row}" if first.row is not None else first.field
        more = len(problems) - 1
        detail = f"{where}: {first.message}" + (
            f" (and {more} more problem{'s' if more > 1 else ''}; see `errors`)" if more else ""
        )
        super().__init__(detail, extra={"errors": errors})


class UnsupportedImportType(DomainError):
    slug, title, status = "unsupported-media-type", "Unsupported media type", 415


class ExportTooLarge(Conflict):
    slug, title, status = "export-too-large", "Too many tasks to export at once", 409
