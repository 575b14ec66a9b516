"""Search rules: what a query's words are, how long it may be, and the pages of ranked hits.

The query text is split into words here, before any engine sees it: a word is a run of
letters, digits and combining marks, and everything else (quotes, `*`, `:`, `&`, `|`, `!`,
parentheses, other punctuation and symbols) separates words. No engine syntax can therefore
reach FTS5 or to_tsquery from user text; a query with no word left is a 422.
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson

from taskwell.db.engine import Database
from taskwell.db.pagination import decode_cursor, encode_cursor, page_size
from taskwell.errors import InvalidCursor, ValidationFailed
from taskwell.http.json_body import dumps
from taskwell.search.repository import Hit, SearchQuery, search_repository
from taskwell.settings import Settings
from taskwell.tasks.schemas import task_dict

# The last word also matches as a prefix when it is at least this long: a one-letter prefix
# matches nearly every task and would only cost the database a full ranking of them.
PREFIX_MIN = 2


class QueryNotSearchable(ValidationFailed):
    """The query is empty of words, or longer than the configured limit."""


@dataclass(frozen=True, slots=True)
class SearchRequest:
    text: str
    project_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    labels: tuple[uuid.UUID, ...] = ()
    statuses: tuple[str, ...] = ()
    priorities: tuple[int, ...] = ()
    due_after: datetime | None = None
    due_before: datetime | None = None
    cursor: str | None = None
    limit: int | None = None


def _is_word_character(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LNM" or category == "Co"


def words_of(text: str) -> tuple[str, ...]:
    """The words of a query, lower case, each once, the last one typed still last (it is the
    one matched as a prefix). Both engines fold case and accents themselves."""
    found: list[str] = []
    current: list[str] = []
    for char in unicodedata.normalize("NFC", text).lower() + " ":
        if _is_word_character(char):
            current.append(char)
            continue
        word = "".join(current)
        current = []
        # A run of combining marks alone is no word.
        if any(unicodedata.category(c)[0] in "LN" for c in word):
            found.append(word)
    if not found:
        return ()
    last = found[-1]
    return (*dict.fromkeys(w for w in found[:-1] if w != last), last)


class SearchService:
    def __init__(self, settings: Settings, db: Database) -> None:
        self._repo = search_repository(db)
        self._max_results = settings.search_max_results
        self._max_length = settings.search_query_max_length
        self._page_default = settings.page_size_default
        self._page_max = settings.page_size_max

    async def search(self, user_id: uuid.UUID, request: SearchRequest) -> bytes:
        """One page as the JSON the API sends: {"items": [{task, rank, matched_in}],
        "next_cursor"}."""
        query, sort = self._query(user_id, request)
        hits = await self._repo.search(query)
        next_cursor = None
        if len(hits) > query.limit:
            hits = hits[: query.limit]
            last = hits[-1]
            next_cursor = encode_cursor(sort, last.rank, last.task[0])
        return dumps({"items": [_item(hit) for hit in hits], "next_cursor": next_cursor})

    def _query(self, user_id: uuid.UUID, request: SearchRequest) -> tuple[SearchQuery, str]:
        if len(request.text) > self._max_length:
            raise _bad_query(f"q must be at most {self._max_length} characters.", "too_long")
        words = words_of(request.text)
        if not words:
            raise _bad_query("q must contain at least one letter or digit.", "no_words")
        query = SearchQuery(
            user_id=user_id,
            words=words,
            prefix=len(words[-1]) >= PREFIX_MIN,
            project_id=request.project_id,
            assignee_id=request.assignee_id,
            labels=tuple(sorted(set(request.labels))),
            statuses=tuple(sorted(set(request.statuses))),
            priorities=tuple(sorted(set(request.priorities))),
            due_after=request.due_after,
            due_before=request.due_before,
            limit=page_size(request.limit, default=self._page_default, maximum=self._page_max),
            max_results=self._max_results,
        )
        # A cursor belongs to one query: the same words and filters (the page size may vary).
        sort = "search:" + _fingerprint(query)
        if request.cursor is not None:
            cursor = decode_cursor(request.cursor, sort=sort, value_kind=float)
            if cursor.value is None:
                raise InvalidCursor("The cursor holds no rank; start again without one.")
            query = replace(query, after=(cursor.value, cursor.last_id))
        return query, sort


def _item(hit: Hit) -> dict[str, Any]:
    return {"task": task_dict(hit.task), "rank": hit.rank, "matched_in": list(hit.matched_in)}


def _fingerprint(query: SearchQuery) -> str:
    fields = {name: getattr(query, name) for name in SearchQuery.__dataclass_fields__}
    for name in ("user_id", "after", "limit"):
        fields.pop(name)
    raw = orjson.dumps(fields, default=str, option=orjson.OPT_PASSTHROUGH_DATETIME)
    return hashlib.blake2b(raw, digest_size=8).hexdigest()


def _bad_query(message: str, code: str) -> QueryNotSearchable:
    return QueryNotSearchable("q", message, location="query", code=code)
