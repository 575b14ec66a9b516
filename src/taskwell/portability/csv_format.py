"""The tasks CSV (GET /export/tasks.csv): its columns, and cells no spreadsheet runs.

One row per task after a header row, RFC 4180 (comma, double quotes, CRLF), UTF-8 with a
byte order mark (so that Excel reads it as UTF-8). Columns:

    id            the task's id
    project       its project's name
    section       its section's name, or empty
    parent_id     its parent task's id, or empty
    title, description
    status        todo, in_progress or done
    priority      0 (none) to 4 (urgent)
    due_at, completed_at, created_at, updated_at
                  RFC 3339 instants in UTC ("2025-01-31T09:00:00Z"), or empty
    due_date, start_date
                  days ("2025-01-31"), or empty (a whole-day due has both due_date and
                  due_at, its midnight UTC)
    recurrence    an RFC 5545 RRULE ("FREQ=WEEKLY;BYDAY=MO"), or empty
    labels        the names of your labels on it, comma-separated (names hold no comma)
    assignee_email

Cells starting with = + - @ or a tab or carriage return start with a single quote, which
spreadsheets show as text instead of running the cell as a formula (OWASP, CSV injection).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


@dataclass(slots=True)
class Names:
    """What the rows show by name instead of by id (keys: ids as text)."""

    projects: dict[str, str] = field(default_factory=dict)
    sections: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)


Column = Callable[[dict[str, Any], Names], Any]


def _field(name: str) -> Column:
    return lambda task, _names: task[name]


def _named(lookup: Callable[[Names], dict[str, str]], name: str) -> Column:
    def get(task: dict[str, Any], names: Names) -> str:
        value = task[name]
        return "" if value is None else lookup(names).get(str(value), "")

    return get


def _labels(task: dict[str, Any], names: Names) -> str:
    found = [names.labels[str(label)] for label in task["labels"] if str(label) in names.labels]
    return ",".join(sorted(found, key=lambda name: (name.casefold(), name)))


# Header -> how the cell is read from a task (the document's field names, portability/schemas).
COLUMNS: dict[str, Column] = {
    "id": _field("id"),
    "project": _named(lambda names: names.projects, "project_id"),
    "section": _named(lambda names: names.sections, "section_id"),
    "parent_id": _field("parent_id"),
    "title": _field("title"),
    "description": _field("description"),
    "status": _field("status"),
    "priority": _field("priority"),
    "due_at": _field("due_at"),
    "due_date": _field("due_date"),
    "start_date": _field("start_date"),
    "recurrence": _field("recurrence"),
    "completed_at": _field("completed_at"),
    "labels": _labels,
    "assignee_email": _named(lambda names: names.emails, "assignee_id"),
    "created_at": _field("created_at"),
    "updated_at": _field("updated_at"),
}


def header() -> bytes:
    return (BOM + _lines([list(COLUMNS)])).encode()


def rows(tasks: Iterable[dict[str, Any]], names: Names) -> bytes:
    return _lines(
        [safe_cell(cell_text(column(task, names))) for column in COLUMNS.values()] for task in tasks
    ).encode()


def _lines(records: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(records)
    return buffer.getvalue()
