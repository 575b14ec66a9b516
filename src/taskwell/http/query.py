"""Query strings parsed into one Pydantic model without FastAPI's per-parameter machinery.

For the hot read routes: one model validation instead of a dependency per parameter (about
half the route's framework cost, see docs/benchmarks.md). Errors come out exactly as
FastAPI's would (422 validation-error, `in: query`), and the OpenAPI parameters are generated
from the same model, so documentation and behaviour cannot drift apart.
"""

from __future__ import annotations

import typing
from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import Request

M = TypeVar("M", bound=BaseModel)


def _is_list(model: type[BaseModel], name: str) -> bool:
    annotation = model.model_fields[name].annotation
    return typing.get_origin(annotation) is list


# Validated queries of frozen models, by raw query string: a client scrolling or polling sends
# the same few strings again and again, and validation is a pure function of the string.
_PARSED: dict[tuple[type[BaseModel], bytes], BaseModel] = {}
_PARSED_ENTRIES = 1024


def parse_query(model: type[M], request: Request) -> M:
    if not model.model_config.get("frozen"):
        return _parse(model, request)
    key = (model, request.scope["query_string"])
    found = _PARSED.get(key)
    if found is None:
        if len(_PARSED) >= _PARSED_ENTRIES:
            _PARSED.clear()
        found = _PARSED[key] = _parse(model, request)
    return found  # type: ignore[return-value]


def _parse(model: type[M], request: Request) -> M:
    lists = {name for name in model.model_fields if _is_list(model, name)}
    data: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        if key in lists:
            data.setdefault(key, []).append(value)
        elif key in model.model_fields:
            data[key] = value  # the last one wins, as in FastAPI
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False, include_context=False, include_input=False):
            errors.append({**error, "loc": ("query", *error["loc"])})
        raise RequestValidationError(errors) from exc


def openapi_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    properties: dict[str, Any] = schema.get("properties", {})
    return [
        {"name": name, "in": "query", "required": False, "schema": prop}
        for name, prop in properties.items()
    ]
