"""SQL for search: one interface, PostgreSQL text search or SQLite FTS5 behind it.

Both engines answer the same question the same way: find the matching tasks (by their own
text, or by any one of their comments), keep those the reader sees and the filters allow, rank
them best first (id breaks ties), keep the best `max_results`, and return the page after the
cursor's (rank, id). Only how a match is found and scored differs, in the two classes at the
end. Every query is prepared once per shape, as the task list's are.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol

import sqlalchemy as sa

from taskwell.comments.models import comments
from taskwell.db.engine import Database
from taskwell.db.prepared import PreparedQuery
from taskwell.projects.access import visible_projects
from taskwell.projects.models import project_members, projects
from taskwell.search.schema import FTS_COMMENTS, FTS_TASKS, TEXT_SEARCH_CONFIG
from taskwell.tasks.models import tasks
from taskwell.tasks.repository import task_columns, task_filters
from taskwell.tasks.schemas import TASK_FIELDS

_USER = sa.bindparam("user_id", type_=sa.Uuid)
# Where a hit was found, in the order matched_in lists them.
PLACES = ("title", "description", "comment")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """One search: words already split and checked (search/service.py), filters, a page."""

    user_id: uuid.UUID
    # Letters and digits only (no engine syntax can be in them), lower case, at least one.
    words: tuple[str, ...]
    # The last word also matches as the start of a longer word.
    prefix: bool
    project_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    labels: tuple[uuid.UUID, ...] = ()
    statuses: tuple[str, ...] = ()
    priorities: tuple[int, ...] = ()
    due_after: datetime | None = None
    due_before: datetime | None = None
    # The (rank, id) of the last hit of the previous page.
    after: tuple[float, uuid.UUID] | None = None
    limit: int = 50
    max_results: int = 500


@dataclass(frozen=True, slots=True)
class Shape:
    """Everything about a search but its values: one prepared statement per shape."""

    words: int
    project: bool
    assignee: bool
    labels: int
    statuses: int
    priorities: int
    due_after: bool
    due_before: bool
    after: bool

    @classmethod
    def of(cls, query: SearchQuery) -> Shape:
        return cls(
            words=len(query.words),
            project=query.project_id is not None,
            assignee=query.assignee_id is not None,
            labels=len(query.labels),
            statuses=len(query.statuses),
            priorities=len(query.priorities),
            due_after=query.due_after is not None,
            due_before=query.due_before is not None,
            after=query.after is not None,
        )


@dataclass(frozen=True, slots=True)
class Hit:
    task: Sequence[Any]  # the columns of a Task (tasks/schemas.py TASK_FIELDS)
    rank: float
    matched_in: tuple[str, ...]


class SearchRepository(Protocol):
    async def search(self, query: SearchQuery) -> list[Hit]:
        """Up to query.limit + 1 hits after query.after, best first (one more than a page
        says whether another follows)."""
        ...


def search_repository(db: Database) -> SearchRepository:
    """The implementation for the database's engine."""
    if db.dialect.name == "postgresql":
        return PostgresSearch(db)
    return SqliteSearch(db)


def _scope(t: sa.Table, shape: Shape) -> list[sa.ColumnElement[bool]]:
    """Live tasks of the projects the reader may search."""
    visible = visible_projects(_USER)
    if shape.project:
        # Named explicitly, an archived project is searched too.
        visible = visible.where(
            project_members.c.project_id == sa.bindparam("project_id", type_=sa.Uuid)
        )
    else:
        visible = visible.where(projects.c.archived_at.is_(None))
    return [t.c.deleted_at.is_(None), t.c.project_id.in_(visible)]


def _filters(t: sa.Table, shape: Shape, dialect: str) -> list[sa.ColumnElement[bool]]:
    return _scope(t, shape) + task_filters(
        t,
        dialect,
        assignee=shape.assignee,
        labels_=shape.labels,
        statuses=shape.statuses,
        priorities=shape.priorities,
        due_before=shape.due_before,
        due_after=shape.due_after,
    )


def _filter_params(query: SearchQuery) -> dict[str, Any]:
    params: dict[str, Any] = {
        "user_id": query.user_id,
        "project_id": query.project_id,
        "assignee_id": query.assignee_id,
        "due_after": query.due_after,
        "due_before": query.due_before,
        "max_results": query.max_results,
        "limit": query.limit + 1,
    }
    params.update({f"label_{i}": label for i, label in enumerate(query.labels)})
    params.update({f"status_{i}": s for i, s in enumerate(query.statuses)})
    params.update({f"priority_{i}": p for i, p in enumerate(query.priorities)})
    if query.after is not None:
        params["after_rank"], params["after_id"] = query.after
    return params


class _RankedSearch(ABC):
    """The shared statement; subclasses say how the engine finds, scores and places hits."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._dialect = db.dialect.name
        self._prepared = lru_cache(maxsize=256)(self._prepare)

    @abstractmethod
    def _hits(self, shape: Shape) -> sa.Subquery:
        """Ids of matching tasks (`task_id`), whoever may see them, with anything the other
        two methods read back."""

    @abstractmethod
    def _rank(self, t: sa.Table, hits: sa.Subquery, shape: Shape) -> sa.ColumnElement[float]:
        """Higher is better; a function of the hit only, so a cursor finds its place again."""

    @abstractmethod
    def _places(
        self, t: sa.Table, ranked: sa.Subquery, shape: Shape
    ) -> list[sa.ColumnElement[bool]]:
        """Whether the hit was found in its title, its description, a comment (PLACES)."""

    @abstractmethod
    def _match_params(self, query: SearchQuery) -> dict[str, Any]:
        """The engine's own query text for the words, and whatever else it binds."""

    def statement(self, shape: Shape) -> sa.Select[Any]:
        t = tasks
        hits = self._hits(shape)
        rank = self._rank(t, hits, shape).label("rank")
        carried = [c for c in hits.c if c.key not in ("task_id", "rank")]
        # The best max_results the reader may see: the whole result set, however it is paged.
        ranked = (
            sa.select(t.c.id, rank, *carried)
            .select_from(hits.join(t, t.c.id == hits.c.task_id))
            .where(*_filters(t, shape, self._dialect))
            .order_by(rank.desc(), t.c.id)
            .limit(sa.bindparam("max_results", type_=sa.Integer))
            .subquery("ranked")
        )
        page = (
            sa.select(
                *task_columns(t, self._dialect), ranked.c.rank, *self._places(t, ranked, shape)
            )
            .select_from(ranked.join(t, t.c.id == ranked.c.id))
            .order_by(ranked.c.rank.desc(), ranked.c.id)
            .limit(sa.bindparam("limit", type_=sa.Integer))
        )
        if shape.after:
            after_rank = sa.bindparam("after_rank", type_=sa.Float(53))
            page = page.where(
                sa.or_(
                    ranked.c.rank < after_rank,
                    sa.and_(
                        ranked.c.rank == after_rank,
                        ranked.c.id > sa.bindparam("after_id", type_=sa.Uuid),
                    ),
                )
            )
        return page

    def _prepare(self, shape: Shape) -> PreparedQuery:
        return self._db.prepare(self.statement(shape))

    async def search(self, query: SearchQuery) -> list[Hit]:
        params = {**_filter_params(query), **self._match_params(query)}
        rows = await self._db.fetch(self._prepared(Shape.of(query)), params, reader=query.user_id)
        width = len(TASK_FIELDS)
        return [
            Hit(
                task=row[:width],
                rank=float(row[width]),
                matched_in=tuple(
                    place for place, found in zip(PLACES, row[width + 1 :], strict=True) if found
                ),
            )
            for row in rows
        ]


# PostgreSQL: to_tsvector over the `taskwell_search` configuration, GIN-indexed (migration
# 0007), ranked by ts_rank_cd (cover density: all the words, close together, in heavy places).

_CONFIG: sa.ColumnClause[Any] = sa.literal_column(f"'{TEXT_SEARCH_CONFIG}'::regconfig")
# Comment words weigh 0.2 (their lexemes carry weight D); a description's 0.4, a title's 1.0.
_COMMENT_WEIGHTS: sa.ColumnClause[Any] = sa.literal_column("'{0.2, 0.2, 0.4, 1.0}'::float4[]")
# Titles are also searched by substring (the trigram index) when every word is this long.
SUBSTRING_MIN = 3


def _vector(text: sa.ColumnElement[str]) -> sa.ColumnElement[Any]:
    return sa.func.to_tsvector(_CONFIG, text)


def _document(t: sa.Table) -> sa.ColumnElement[Any]:
    """Literally the expression of ix_tasks_search, so the planner can use that index."""
    title = sa.func.setweight(_vector(t.c.title), sa.literal_column("'A'"))
    description = sa.func.setweight(_vector(t.c.description), sa.literal_column("'B'"))
    return title.op("||")(description)


def _matches(vector: sa.ColumnElement[Any], name: str) -> sa.ColumnElement[bool]:
    query = sa.func.to_tsquery(_CONFIG, sa.bindparam(name, type_=sa.String))
    return vector.bool_op("@@")(query)


def _tsquery(words: Sequence[str], prefix: bool, operator: str) -> str:
    # Words hold letters and digits only, so quoting them is all the escaping they need.
    terms = [f"'{word}'" for word in words]
    if prefix:
        terms[-1] += ":*"
    return f" {operator} ".join(terms)


class PostgresSearch(_RankedSearch):
    def _title_contains_all(self, t: sa.Table, shape: Shape) -> sa.ColumnElement[bool]:
        return sa.and_(
            *(
                t.c.title.ilike(sa.bindparam(f"substring_{i}", type_=sa.String), escape="\\")
                for i in range(shape.words)
            )
        )

    def _hits(self, shape: Shape) -> sa.Subquery:
        t, c = tasks, comments
        # Each branch is scoped to the reader's projects, so the planner may start from the
        # text index or from the reader's tasks, whichever it expects to be fewer.
        by_text = sa.select(t.c.id.label("task_id")).where(
            _matches(_document(t), "tsquery"), *_scope(t, shape)
        )
        by_comment = (
            sa.select(c.c.task_id)
            .join(t, t.c.id == c.c.task_id)
            .where(_matches(_vector(c.c.body), "tsquery"), *_scope(t, shape))
        )
        # Finds words the text search parser keeps inside longer tokens (e-mail addresses,
        # paths, URLs) and infixes; bound to false (no rows) when a word is too short.
        by_title = sa.select(t.c.id).where(
            sa.bindparam("substrings", type_=sa.Boolean),
            self._title_contains_all(t, shape),
            *_scope(t, shape),
        )
        return sa.union(by_text, by_comment, by_title).subquery("hits")

    def _rank(self, t: sa.Table, hits: sa.Subquery, shape: Shape) -> sa.ColumnElement[float]:
        c = comments
        query = sa.func.to_tsquery(_CONFIG, sa.bindparam("tsquery", type_=sa.String))
        best_comment = (
            sa.select(sa.func.max(sa.func.ts_rank_cd(_COMMENT_WEIGHTS, _vector(c.c.body), query)))
            .where(c.c.task_id == t.c.id, _matches(_vector(c.c.body), "tsquery"))
            .scalar_subquery()
        )
        # ts_rank_cd is 0 for a task found only by a comment or a title substring.
        own = sa.func.ts_rank_cd(_document(t), query)
        return sa.cast(own + sa.func.coalesce(best_comment, sa.literal_column("0")), sa.Float(53))

    def _places(
        self, t: sa.Table, ranked: sa.Subquery, shape: Shape
    ) -> list[sa.ColumnElement[bool]]:
        c = comments
        by_text = _matches(_document(t), "tsquery")
        in_title = sa.or_(
            sa.and_(by_text, _matches(_vector(t.c.title), "tsquery_any")),
            sa.and_(
                sa.bindparam("substrings", type_=sa.Boolean), self._title_contains_all(t, shape)
            ),
        )
        in_description = sa.and_(by_text, _matches(_vector(t.c.description), "tsquery_any"))
        in_comment = sa.exists().where(
            c.c.task_id == t.c.id, _matches(_vector(c.c.body), "tsquery")
        )
        return [in_title, in_description, in_comment]

    def _match_params(self, query: SearchQuery) -> dict[str, Any]:
        params: dict[str, Any] = {
            "tsquery": _tsquery(query.words, query.prefix, "&"),
            "tsquery_any": _tsquery(query.words, query.prefix, "|"),
            "substrings": all(len(word) >= SUBSTRING_MIN for word in query.words),
        }
        for i, word in enumerate(query.words):
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params[f"substring_{i}"] = f"%{escaped}%"
        return params


# SQLite: FTS5 tables kept by triggers (migration 0007), ranked by bm25(). Rows are found by
# their `ref` (the task's or comment's id); the columns searched are named in every query.

_fts = sa.MetaData()  # not the app's: these are virtual tables the models never create
_FTS_TASKS = sa.Table(
    FTS_TASKS,
    _fts,
    sa.Column("ref", sa.Uuid),
    sa.Column("title", sa.Text),
    sa.Column("description", sa.Text),
)
_FTS_COMMENTS = sa.Table(
    FTS_COMMENTS,
    _fts,
    sa.Column("ref", sa.Uuid),
    sa.Column("task_ref", sa.Uuid),
    sa.Column("body", sa.Text),
)
# bm25 weights per column (ref, title, description) and (ref, task_ref, body).
_TASK_WEIGHTS = ("0.0", "10.0", "4.0")
_COMMENT_WEIGHTS_FTS = ("0.0", "0.0", "2.0")


def _fts_match(table: sa.Table, name: str) -> sa.ColumnElement[bool]:
    return sa.literal_column(table.name).bool_op("MATCH")(sa.bindparam(name, type_=sa.String))


def _bm25(table: sa.Table, weights: Sequence[str]) -> sa.ColumnElement[float]:
    # bm25 is lower for better matches; negated, higher is better, as on PostgreSQL.
    score = sa.func.bm25(sa.literal_column(table.name), *map(sa.literal_column, weights))
    return sa.type_coerce(-score, sa.Float)


def _highlighted(table: sa.Table, column: int) -> sa.ColumnElement[bool]:
    """1 when the column holds any of the query's words: highlight marks each one (with a
    control character no stored text has before it)."""
    mark: sa.ColumnClause[str] = sa.literal_column("char(1)")
    marked = sa.func.highlight(
        sa.literal_column(table.name), sa.literal_column(str(column)), mark, sa.literal_column("''")
    )
    return sa.func.instr(marked, mark) > sa.literal_column("0")


def _fts5_query(columns: str, words: Sequence[str], prefix: bool) -> str:
    # Each word is a quoted string (letters and digits only, but a `"` would be doubled),
    # all of them required, within the named columns only.
    phrases = ['"' + word.replace('"', '""') + '"' for word in words]
    if prefix:
        phrases[-1] += "*"
    return f"{columns} : ({' '.join(phrases)})"


class SqliteSearch(_RankedSearch):
    def _hits(self, shape: Shape) -> sa.Subquery:
        ft, fc = _FTS_TASKS, _FTS_COMMENTS
        zero: sa.ColumnClause[int] = sa.literal_column("0")
        one: sa.ColumnClause[int] = sa.literal_column("1")
        by_text = sa.select(
            ft.c.ref.label("task_id"),
            _bm25(ft, _TASK_WEIGHTS).label("score"),
            zero.label("kind"),
            _highlighted(ft, 1).label("in_title"),
            _highlighted(ft, 2).label("in_description"),
        ).where(_fts_match(ft, "task_match"))
        by_comment = sa.select(
            fc.c.task_ref, _bm25(fc, _COMMENT_WEIGHTS_FTS), one, zero, zero
        ).where(_fts_match(fc, "comment_match"))
        # bm25 stays inside its own SELECT: FTS5 answers it only there, not in an aggregate.
        rows = sa.union_all(by_text, by_comment).subquery("rows")
        own = sa.func.max(sa.case((rows.c.kind == zero, rows.c.score)))
        best_comment = sa.func.max(sa.case((rows.c.kind == one, rows.c.score)))
        return (
            sa.select(
                rows.c.task_id,
                (sa.func.coalesce(own, zero) + sa.func.coalesce(best_comment, zero)).label("rank"),
                sa.func.max(rows.c.in_title).label("in_title"),
                sa.func.max(rows.c.in_description).label("in_description"),
                sa.func.max(rows.c.kind).label("in_comment"),
            )
            .group_by(rows.c.task_id)
            .subquery("hits")
        )

    def _rank(self, t: sa.Table, hits: sa.Subquery, shape: Shape) -> sa.ColumnElement[float]:
        return sa.type_coerce(hits.c.rank, sa.Float)

    def _places(
        self, t: sa.Table, ranked: sa.Subquery, shape: Shape
    ) -> list[sa.ColumnElement[bool]]:
        return [
            sa.type_coerce(ranked.c[name], sa.Boolean)
            for name in ("in_title", "in_description", "in_comment")
        ]

    def _match_params(self, query: SearchQuery) -> dict[str, Any]:
        return {
            "task_match": _fts5_query("{title description}", query.words, query.prefix),
            "comment_match": _fts5_query("body", query.words, query.prefix),
        }
