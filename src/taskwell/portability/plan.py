"""What an import will create, checked whole before anything is written.

Both sources (an export document, a Todoist CSV) become one ImportPlan; the service writes a
plan in one transaction. Rows are named by `key`, their id in the source: the writer gives
every row a new id and maps the references.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError

from taskwell.comments.models import BODY_MAX
from taskwell.portability.errors import InvalidImport, Problem
from taskwell.portability.schemas import COPIED_TASK_FIELDS, Document, DocumentTask
from taskwell.tasks.models import MAX_DEPTH, TaskStatus


@dataclass(slots=True)
class NewSection:
    key: uuid.UUID
    name: str
    # Sort key: the writer renumbers positions in this order (ties: the source's order).
    order: float


@dataclass(slots=True)
class NewProject:
    key: uuid.UUID
    name: str
    color: str | None = None
    archived: bool = False
    # Not a new project: its sections and tasks go into the importer's Inbox.
    into_inbox: bool = False
    order: float = 0.0
    sections: list[NewSection] = field(default_factory=list)


@dataclass(slots=True)
class NewLabel:
    key: uuid.UUID
    name: str
    color: str | None = None


@dataclass(slots=True)
class NewTask:
    key: uuid.UUID
    project: uuid.UUID
    section: uuid.UUID | None
    parent: uuid.UUID | None
    # The columns written as they are (COPIED_TASK_FIELDS), title first.
    values: dict[str, Any]
    order: float = 0.0
    labels: list[uuid.UUID] = field(default_factory=list)
    # The task (key) that completing this one created.
    next_occurrence: uuid.UUID | None = None
    assign_to_importer: bool = False
    completed_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(slots=True)
class NewComment:
    task: uuid.UUID
    body: str
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(slots=True)
class NewReminder:
    task: uuid.UUID
    remind_at: datetime
    minutes_before: int | None = None
    delivered_at: datetime | None = None


@dataclass(slots=True)
class ImportPlan:
    # Recorded with each task's `created` activity entry.
    source: str
    projects: list[NewProject]
    labels: list[NewLabel]
    # Parents before their subtasks (the order they can be inserted in).
    tasks: list[NewTask]
    comments: list[NewComment]
    reminders: list[NewReminder] = field(default_factory=list)


def json_path(loc: Iterable[int | str]) -> str:
    """("tasks", 3, "title") -> "tasks[3].title"."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def schema_problems(exc: ValidationError) -> list[Problem]:
    return [
        Problem(json_path(error["loc"]), str(error["msg"]), str(error["type"]))
        for error in exc.errors(include_url=False, include_input=False)
    ]


def parents_first(tasks: list[NewTask]) -> list[NewTask]:
    """The tasks ordered so that each comes after its parent (the source's order otherwise)."""
    depth: dict[uuid.UUID, int] = {}
    by_key = {task.key: task for task in tasks}
    for task in tasks:
        chain: list[uuid.UUID] = []
        current: NewTask | None = task
        while current is not None and current.key not in depth:
            chain.append(current.key)
            current = by_key.get(current.parent) if current.parent is not None else None
        base = -1 if current is None else depth[current.key]
        for offset, key in enumerate(reversed(chain), start=1):
            depth[key] = base + offset
    return sorted(tasks, key=lambda task: depth[task.key])


class DocumentPlanner:
    """An export document's plan, or every problem found in it, each named by its JSON path."""

    def __init__(self, *, max_tasks: int, max_comments: int, max_reminders_per_task: int) -> None:
        self._max_tasks = max_tasks
        self._max_comments = max_comments
        self._max_reminders = max_reminders_per_task

    def plan(self, doc: Document) -> ImportPlan:
        problems: list[Problem] = []
        if len(doc.tasks) > self._max_tasks:
            problems.append(Problem("tasks", f"at most {self._max_tasks} tasks", "too_long"))
        if len(doc.comments) > self._max_comments:
            problems.append(
                Problem("comments", f"at most {self._max_comments} comments", "too_long")
            )
        if problems:
            raise InvalidImport(problems)
        projects, sections = self._projects(doc, problems)
        labels = self._labels(doc, problems)
        tasks = self._tasks(doc, projects, sections, {label.key for label in labels}, problems)
        self._check_tree(doc, tasks, problems)
        comments = self._comments(doc, {task.key for task in tasks}, problems)
        reminders = self._reminders(doc, {task.key: task for task in tasks}, problems)
        if problems:
            raise InvalidImport(problems)
        return ImportPlan(
            source="taskwell-export",
            projects=list(projects.values()),
            labels=labels,
            tasks=parents_first(tasks),
            comments=comments,
            reminders=reminders,
        )

    @staticmethod
    def _projects(
        doc: Document, problems: list[Problem]
    ) -> tuple[dict[uuid.UUID, NewProject], dict[uuid.UUID, uuid.UUID]]:
        """The projects by id, and each section's project."""
        projects: dict[uuid.UUID, NewProject] = {}
        section_project: dict[uuid.UUID, uuid.UUID] = {}
        inbox_seen = False
        for i, source in enumerate(doc.projects):
            if source.id in projects:
                problems.append(Problem(f"projects[{i}].id", "appears twice", "duplicate"))
                continue
            if source.is_inbox and inbox_seen:
                problems.append(
                    Problem(f"projects[{i}].is_inbox", "only one project is the Inbox", "inbox")
                )
            inbox_seen = inbox_seen or source.is_inbox
            project = NewProject(
                key=source.id,
                name=source.name,
                color=source.color,
                archived=source.archived and not source.is_inbox,
                into_inbox=source.is_inbox,
                order=_order(source.position, i),
            )
            for j, section in enumerate(source.sections):
                if section.id in section_project:
                    problems.append(
                        Problem(f"projects[{i}].sections[{j}].id", "appears twice", "duplicate")
                    )
                    continue
                section_project[section.id] = source.id
                project.sections.append(
                    NewSection(section.id, section.name, _order(section.position, j))
                )
            projects[source.id] = project
        return projects, section_project

    @staticmethod
    def _labels(doc: Document, problems: list[Problem]) -> list[NewLabel]:
        labels: dict[uuid.UUID, NewLabel] = {}
        for i, source in enumerate(doc.labels):
            if source.id in labels:
                problems.append(Problem(f"labels[{i}].id", "appears twice", "duplicate"))
                continue
            labels[source.id] = NewLabel(source.id, source.name, source.color)
        return list(labels.values())

    @staticmethod
    def _tasks(
        doc: Document,
        projects: dict[uuid.UUID, NewProject],
        section_project: dict[uuid.UUID, uuid.UUID],
        label_keys: set[uuid.UUID],
        problems: list[Problem],
    ) -> list[NewTask]:
        exporter = doc.user.id if doc.user is not None else None
        keys = {source.id for source in doc.tasks}
        seen: set[uuid.UUID] = set()
        tasks: list[NewTask] = []
        for i, source in enumerate(doc.tasks):
            at = f"tasks[{i}]"
            if source.id in seen:
                problems.append(Problem(f"{at}.id", "appears twice", "duplicate"))
                continue
            seen.add(source.id)
            if source.project_id not in projects:
                problems.append(
                    Problem(f"{at}.project_id", "names no project of the document", "reference")
                )
            if (
                source.section_id is not None
                and section_project.get(source.section_id) != source.project_id
            ):
                problems.append(
                    Problem(f"{at}.section_id", "names no section of its project", "reference")
                )
            for j, label in enumerate(source.labels):
                if label not in label_keys:
                    problems.append(
                        Problem(f"{at}.labels[{j}]", "names no label of the document", "reference")
                    )
            done = source.status is TaskStatus.done
            values = {name: getattr(source, name) for name in COPIED_TASK_FIELDS}
            values.update(_due(source, at, problems))
            next_key = source.next_occurrence_id
            tasks.append(
                NewTask(
                    key=source.id,
                    project=source.project_id,
                    section=source.section_id,
                    parent=source.parent_id,
                    values=values,
                    order=_order(source.position, i),
                    labels=list(dict.fromkeys(source.labels)),
                    # Dropped when that task is not in the document (the trash, say).
                    next_occurrence=next_key if next_key in keys else None,
                    assign_to_importer=exporter is not None and source.assignee_id == exporter,
                    completed_at=(source.completed_at or source.updated_at) if done else None,
                    created_at=source.created_at,
                    updated_at=source.updated_at,
                )
            )
        return tasks

    @staticmethod
    def _check_tree(doc: Document, tasks: list[NewTask], problems: list[Problem]) -> None:
        """Each parent is another task of the same project, with no cycle and at most
        MAX_DEPTH levels of subtasks below a top-level task."""
        index = {source.id: i for i, source in enumerate(doc.tasks)}
        by_key = {task.key: task for task in tasks}
        for task in tasks:
            if task.parent is None:
                continue
            at = f"tasks[{index[task.key]}].parent_id"
            parent = by_key.get(task.parent)
            if parent is None or parent.key == task.key or parent.project != task.project:
                problems.append(Problem(at, "names no other task of the same project", "reference"))
                continue
            depth, current = 1, parent
            while current.parent is not None and depth <= MAX_DEPTH:
                next_parent = by_key.get(current.parent)
                if next_parent is None:
                    break  # reported at that task
                depth, current = depth + 1, next_parent
            if depth > MAX_DEPTH:
                problems.append(
                    Problem(
                        at,
                        f"subtasks nest at most {MAX_DEPTH} levels below a top-level task "
                        "(or the parents form a cycle)",
                        "depth",
                    )
                )

    @staticmethod
    def _comments(
        doc: Document, task_keys: set[uuid.UUID], problems: list[Problem]
    ) -> list[NewComment]:
        exporter = doc.user.id if doc.user is not None else None
        authors = _author_names(doc)
        comments = []
        for i, source in enumerate(doc.comments):
            if source.task_id not in task_keys:
                problems.append(
                    Problem(f"comments[{i}].task_id", "names no task of the document", "reference")
                )
                continue
            body = source.body
            if exporter is not None and source.author_id != exporter:
                body = credited(body, authors.get(source.author_id))
            comments.append(NewComment(source.task_id, body, source.created_at, source.updated_at))
        return comments

    def _reminders(
        self, doc: Document, tasks: dict[uuid.UUID, NewTask], problems: list[Problem]
    ) -> list[NewReminder]:
        reminders = []
        per_task: dict[uuid.UUID, int] = {}
        for i, source in enumerate(doc.reminders):
            at = f"reminders[{i}]"
            task = tasks.get(source.task_id)
            if task is None:
                problems.append(
                    Problem(f"{at}.task_id", "names no task of the document", "reference")
                )
                continue
            per_task[task.key] = per_task.get(task.key, 0) + 1
            if per_task[task.key] == self._max_reminders + 1:
                problems.append(
                    Problem(at, f"at most {self._max_reminders} reminders on one task", "too_long")
                )
            remind_at = source.remind_at
            if source.minutes_before is not None:
                # Relative to the due, as the reminder API computes it, not as written.
                due_at: datetime | None = task.values.get("due_at")
                try:
                    if due_at is None:
                        raise ValueError("the task has no due; give remind_at")
                    remind_at = due_at - timedelta(minutes=source.minutes_before)
                except (ValueError, OverflowError) as exc:
                    message = str(exc) if isinstance(exc, ValueError) else "before year 1"
                    problems.append(Problem(f"{at}.minutes_before", message, "reference"))
            reminders.append(
                NewReminder(task.key, remind_at, source.minutes_before, source.delivered_at)
            )
        return reminders


def _due(source: DocumentTask, at: str, problems: list[Problem]) -> dict[str, Any]:
    """The due columns, checked together as the task API checks them: a date-time, or a day
    (whose due_at is its midnight UTC, as the export writes it), a zone only with a date-time,
    a rule only with a due."""
    due_at, day, zone, rule = source.due_at, source.due_date, source.due_timezone, source.recurrence
    if day is not None:
        midnight = datetime.combine(day, time(), UTC)
        if due_at is not None and due_at != midnight:
            problems.append(
                Problem(f"{at}.due_date", "give due_at (a date-time) or due_date, not both", "due")
            )
        if zone is not None:
            problems.append(
                Problem(f"{at}.due_timezone", "a whole-day due has no time zone", "due")
            )
        return {"due_at": midnight, "due_date": day, "due_timezone": None, "recurrence": rule}
    if due_at is None:
        if rule is not None:
            problems.append(Problem(f"{at}.recurrence", "a recurring task needs a due", "due"))
        if zone is not None:
            problems.append(Problem(f"{at}.due_timezone", "a time zone needs a due_at", "due"))
        return {"due_at": None, "due_date": None, "due_timezone": None, "recurrence": None}
    # A date-time without a zone gets the importer's (the writer knows it).
    return {"due_at": due_at, "due_date": None, "due_timezone": zone, "recurrence": rule}


def credited(body: str, author: str | None) -> str:
    """The comment with a first line naming its original author (the importer posts it),
    when that still fits the length a comment may have."""
    note = f"*Originally written by {author or 'another user'}.*\n\n"
    return note + body if len(note) + len(body) <= BODY_MAX else body


def _author_names(doc: Document) -> dict[uuid.UUID | None, str]:
    names: dict[uuid.UUID | None, str] = {}
    for project in doc.projects:
        for member in project.members:
            names[member.user_id] = (
                f"{member.display_name} ({member.email})" if member.display_name else member.email
            )
    return names


def _order(position: float | None, index: int) -> float:
    # Without a position, after every task that has one, in the source's order.
    return position if position is not None else 1e16 + index
