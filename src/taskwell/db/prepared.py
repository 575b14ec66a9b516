"""A Core SELECT compiled once for one dialect, with its bind and result converters."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

Converter = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class PreparedQuery:
    sql: str
    param_names: tuple[str, ...]
    bind_converters: tuple[Converter, ...]
    bind_defaults: tuple[Any, ...]
    result_converters: tuple[Converter, ...]
    columns: tuple[str, ...]
    # PostgreSQL: plan every run for its own values. A prepared statement soon gets one
    # generic plan, made for an average value; for a filter whose selectivity depends on the
    # value (one project of 100,000 tasks among many small ones) that plan can be 100x off.
    custom_plan: bool = False

    @classmethod
    def compile(
        cls, statement: sa.Select[Any], dialect: Dialect, *, custom_plan: bool = False
    ) -> PreparedQuery:
        compiled = statement.compile(dialect=dialect)
        names = tuple(str(name) for name in compiled.positiontup or ())
        binds = compiled.binds
        bind_converters = tuple(
            binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
        )
        selected = list(statement.selected_columns)
        if dialect.driver == "asyncpg":
            # asyncpg decodes every column type we select (uuid, timestamptz, float8, text,
            # int, bool) to Python natively; SQLAlchemy's converters there are for numeric
            # and JSON types and need the column's OID, which a prepared read doesn't have.
            result_converters: tuple[Converter, ...] = (None,) * len(selected)
        else:
            result_converters = tuple(
                col.type.dialect_impl(dialect).result_processor(dialect, None) for col in selected
            )
        return cls(
            sql=compiled.string,
            param_names=names,
            bind_converters=bind_converters,
            bind_defaults=tuple(binds[name].value for name in names),
            result_converters=result_converters,
            columns=tuple(str(col.key) for col in selected),
            custom_plan=custom_plan,
        )

    def bind(self, params: Mapping[str, Any]) -> list[Any]:
        args = []
        for name, convert, default in zip(
            self.param_names, self.bind_converters, self.bind_defaults, strict=True
        ):
            # Named bindparams come from the caller; literals built into the statement
            # (a LIMIT, a constant) keep the value they were compiled with.
            value = params.get(name, default)
            args.append(value if convert is None or value is None else convert(value))
        return args

    def load(self, raw_rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        converters = self.result_converters
        if not any(converters):
            return [tuple(row) for row in raw_rows]
        return [
            tuple(
                value if convert is None or value is None else convert(value)
                for convert, value in zip(converters, row, strict=True)
            )
            for row in raw_rows
        ]
