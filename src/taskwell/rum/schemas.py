"""Bodies the browser app sends with navigator.sendBeacon: strict, small and bounded."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from taskwell.validation import JSON_INTEGER, JSON_NUMBER, CleanStr, StrictModel

# Far beyond any real value; a bigger one is a broken or forged report.
MAX_MILLISECONDS = 600_000.0  # ten minutes
MAX_CLS = 100.0


class Vital(StrictModel):
    name: Literal["LCP", "INP", "CLS", "FCP", "TTFB"]
    # Milliseconds, except CLS (a unitless layout-shift score).
    # Field before the type check: then the schema reads minimum/maximum, not ge/le.
    value: Annotated[float, Field(ge=0, le=MAX_MILLISECONDS, allow_inf_nan=False), JSON_NUMBER]
    rating: Literal["good", "needs-improvement", "poor"]
    # The client route template ("/tasks/:id"); anything else is counted as "other".
    route: Annotated[CleanStr, Field(max_length=200)]

    @model_validator(mode="after")
    def _cls_is_a_score(self) -> Vital:
        if self.name == "CLS" and self.value > MAX_CLS:
            raise ValueError(f"a CLS score is at most {MAX_CLS:g}")
        return self


class VitalsIn(StrictModel):
    metrics: Annotated[list[Vital], Field(min_length=1, max_length=20)]


class ErrorReportIn(StrictModel):
    message: Annotated[CleanStr, Field(min_length=1, max_length=1_000)]
    source: Annotated[CleanStr, Field(max_length=500)] = ""
    line: Annotated[int, Field(ge=0, le=10_000_000), JSON_INTEGER] = 0
    column: Annotated[int, Field(ge=0, le=10_000_000), JSON_INTEGER] = 0
    stack: Annotated[CleanStr, Field(max_length=8_000)] = ""
    route: Annotated[CleanStr, Field(max_length=200)]


def inline_schema(model: type[StrictModel]) -> dict[str, Any]:
    """The model's JSON Schema with its nested models written in place, for a request body
    that FastAPI does not parse itself (so it cannot register them as components)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved
