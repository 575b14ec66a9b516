"""A Todoist project's CSV export ("Export as a template" / "Export as CSV") as an ImportPlan.

The columns (by name, in any order; only TYPE and CONTENT are required; others are ignored):
TYPE (task, section or note), CONTENT (the task's title with its @labels, the section's name,
or the note's text), DESCRIPTION, PRIORITY, INDENT, DATE, TIMEZONE. AUTHOR, RESPONSIBLE,
DATE_LANG, DURATION and DURATION_UNIT name Todoist users and settings this import has no use
for. Blank rows separate tasks and are skipped.

- PRIORITY is Todoist's p1..p4 as written in the app (1 = p1, the highest; 4 = p4, Todoist's
  default, which means no priority): 1 -> urgent, 2 -> high, 3 -> medium, 4 or empty -> none.
  (Todoist's REST API numbers them the other way round; its CSV files do not.)
- INDENT 1 is a top-level task, 2 its subtask, and so on; a section starts a new tree.
- A note is a comment on the nearest task above it in the same section.
- DATE is what Todoist's date field held: an ISO date ("2025-03-01") is a whole-day due; an
  ISO date and time ("2025-03-01 14:30", "2025-03-01T14:30:00Z") is due then, in TIMEZONE
  when it has no offset (and keeps that zone); anything else ("every monday", "tomorrow") is
  kept in the description, since its meaning depended on when Todoist read it.
- Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
import zoneinfo
from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import TypeAdapter, ValidationError

from taskwell.comments.schemas import CommentText
from taskwell.labels.schemas import LabelName
from taskwell.portability.errors import InvalidImport, Problem
from taskwell.portability.plan import (
    ImportPlan,
    NewComment,
    NewLabel,
    NewProject,
    NewSection,
    NewTask,
)
from taskwell.portability.schemas import COPIED_TASK_FIELDS
from taskwell.projects.schemas import Name
from taskwell.tasks.models import MAX_DEPTH, Priority, TaskStatus
from taskwell.tasks.schemas import Description, Title
from taskwell.validation import TimeZoneName

DEFAULT_PROJECT_NAME = "Imported from Todoist"
PRIORITIES = {
    "1": Priority.urgent,
    "2": Priority.high,
    "3": Priority.medium,
    "4": Priority.none,
    "": Priority.none,
}
# An @label: after a space or at the start, up to the next space (a comma ends it too: label
# names cannot hold one). "ada@example.com" is no label.
_LABEL = re.compile(r"(?<!\S)@([^\s@,]+)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")

_title = TypeAdapter(Title)
_description = TypeAdapter(Description)
_section_name = TypeAdapter(Name)
_label_name = TypeAdapter(LabelName)
_comment = TypeAdapter(CommentText)
_time_zone = TypeAdapter(TimeZoneName)


class RowError(Exception):
    def __init__(self, column: str, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.column, self.message, self.code = column, message, code


def _valid(adapter: TypeAdapter[Any], value: str, column: str) -> Any:
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise RowError(column, f"{column}: {message}") from None


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    # Todoist's own names are IANA ones; anything else reads as none (UTC, and the
    # importer's zone for the task).
    try:
        _time_zone.validate_python(name)
    except ValidationError:
        return None
    return zoneinfo.ZoneInfo(name)


def due_from(text: str, timezone: str) -> dict[str, Any] | None:
    """The due columns an ISO DATE names, or None when it is not ISO (then it is kept as
    text). A date-time keeps TIMEZONE as its zone; without one, the importer's applies."""
    text = text.strip()
    try:
        if _DATE.fullmatch(text):
            day = date.fromisoformat(text)
            return {"due_date": day, "due_at": datetime.combine(day, time(), UTC)}
        if _DATE_TIME.fullmatch(text):
            when = datetime.fromisoformat(text.replace(" ", "T", 1))
            zone = _zone(timezone)
            if when.tzinfo is None:
                when = when.replace(tzinfo=zone or UTC)
            return {"due_at": when.astimezone(UTC), "due_timezone": zone and zone.key}
    except (ValueError, OverflowError):
        raise RowError("DATE", "DATE is not a real date") from None
    return None


class TodoistPlanner:
    """One project: the file's sections, tasks (with their subtasks and labels) and notes."""

    def __init__(self, *, max_tasks: int, max_comments: int) -> None:
        self._max_tasks = max_tasks
        self._max_comments = max_comments

    def plan(self, body: bytes, project_name: str | None) -> ImportPlan:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidImport(
                [Problem("body", "the file is not UTF-8 text (Todoist writes UTF-8)", "encoding")]
            ) from None
        project = NewProject(key=uuid.uuid4(), name=project_name or DEFAULT_PROJECT_NAME)
        state = _State(project)
        reader = csv.reader(io.StringIO(text, newline=""))
        header: dict[str, int] | None = None
        problems: list[Problem] = []
        row_number = 0
        while True:
            row_number += 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                problems.append(Problem(f"rows[{row_number}]", str(exc), "csv", row_number))
                break  # the reader cannot resynchronise after a malformed record
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = _header(row, row_number)
                continue
            try:
                state.add(_Row(row, header), row_number)
            except RowError as exc:
                problems.append(
                    Problem(f"rows[{row_number}].{exc.column}", exc.message, exc.code, row_number)
                )
            if len(problems) >= 50:
                break
        if header is None:
            problems.append(Problem("rows[1]", _NO_HEADER, "header", 1))
        problems += self._limits(state)
        if problems:
            raise InvalidImport(problems)
        return ImportPlan(
            source="todoist",
            projects=[project],
            labels=list(state.labels.values()),
            tasks=state.tasks,
            comments=state.comments,
        )

    def _limits(self, state: _State) -> list[Problem]:
        problems = []
        if len(state.tasks) > self._max_tasks:
            problems.append(Problem("rows", f"at most {self._max_tasks} tasks", "too_long"))
        if len(state.comments) > self._max_comments:
            problems.append(Problem("rows", f"at most {self._max_comments} notes", "too_long"))
        return problems


_NO_HEADER = "the first row must name the columns, TYPE and CONTENT among them"


def _header(row: list[str], row_number: int) -> dict[str, int]:
    columns = {name.strip().upper(): i for i, name in enumerate(row)}
    if "TYPE" not in columns or "CONTENT" not in columns:
        raise InvalidImport([Problem(f"rows[{row_number}]", _NO_HEADER, "header", row_number)])
    return columns


class _Row:
    def __init__(self, cells: list[str], header: dict[str, int]) -> None:
        self._cells = cells
        self._header = header

    def __getitem__(self, column: str) -> str:
        index = self._header.get(column)
        return self._cells[index] if index is not None and index < len(self._cells) else ""


class _State:
    """The plan being built, row by row."""

    def __init__(self, project: NewProject) -> None:
        self.project = project
        self.section: uuid.UUID | None = None
        # The latest task at each indent of the current section: stack[0] is at INDENT 1.
        self.stack: list[uuid.UUID] = []
        self.tasks: list[NewTask] = []
        self.labels: dict[str, NewLabel] = {}
        self.comments: list[NewComment] = []

    def add(self, row: _Row, number: int) -> None:
        kind = row["TYPE"].strip().lower()
        if kind == "task":
            self._task(row, number)
        elif kind == "section":
            name = _valid(_section_name, row["CONTENT"].strip(), "CONTENT")
            self.section = uuid.uuid4()
            self.project.sections.append(NewSection(self.section, name, float(number)))
            self.stack = []
        elif kind == "note":
            if not self.stack:
                raise RowError("TYPE", "a note must follow a task in the same section")
            text = _valid(_comment, row["CONTENT"], "CONTENT")
            self.comments.append(NewComment(self.stack[-1], text))
        else:
            raise RowError("TYPE", "TYPE must be task, section or note")

    def _task(self, row: _Row, number: int) -> None:
        indent = _indent(row["INDENT"], len(self.stack))
        content = row["CONTENT"]
        names = _LABEL.findall(content)
        title_text = " ".join(_LABEL.sub(" ", content).split()) or content.strip()
        title = _valid(_title, title_text, "CONTENT")
        description = row["DESCRIPTION"]
        due_text = row["DATE"].strip()
        due = due_from(due_text, row["TIMEZONE"].strip()) if due_text else None
        if due_text and due is None:
            line = f"Todoist date: {due_text}"
            description = f"{description}\n\n{line}" if description.strip() else line
        description = _valid(_description, description, "DESCRIPTION")
        priority = PRIORITIES.get(row["PRIORITY"].strip())
        if priority is None:
            raise RowError("PRIORITY", "PRIORITY must be 1, 2, 3 or 4 (p1 is the highest)")
        key = uuid.uuid4()
        parent = self.stack[indent - 2] if indent > 1 else None
        self.stack = [*self.stack[: indent - 1], key]
        self.tasks.append(
            NewTask(
                key=key,
                project=self.project.key,
                section=self.section,
                parent=parent,
                values={
                    **dict.fromkeys(COPIED_TASK_FIELDS),
                    **(due or {}),
                    "title": title,
                    "description": description,
                    "status": TaskStatus.todo,
                    "priority": priority,
                },
                order=float(number),
                labels=[self._label(name) for name in dict.fromkeys(names)],
            )
        )

    def _label(self, name: str) -> uuid.UUID:
        name = _valid(_label_name, name, "CONTENT")
        label = self.labels.get(name.casefold())
        if label is None:
            label = self.labels[name.casefold()] = NewLabel(uuid.uuid4(), name)
        return label.key


def _indent(text: str, open_levels: int) -> int:
    text = text.strip() or "1"
    if not text.isdigit() or not 1 <= int(text) <= MAX_DEPTH + 1:
        raise RowError("INDENT", f"INDENT must be a whole number from 1 to {MAX_DEPTH + 1}")
    indent = int(text)
    if indent > open_levels + 1:
        raise RowError(
            "INDENT",
            f"INDENT {indent} needs a task at INDENT {indent - 1} above it in the same section",
        )
    return indent
