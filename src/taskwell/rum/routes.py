"""HTTP for browser reports. No session and no CSRF token: navigator.sendBeacon sends neither
custom headers nor, reliably, a JSON content type, so JSON is also accepted as text/plain.
What protects these routes is strict validation, small body caps, bounded label values and
their own per-address rate limit (group `rum`)."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from taskwell.errors import PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA, DomainError, problem_responses
from taskwell.http import API_V1
from taskwell.http.rate_limit import limit
from taskwell.rum.schemas import ErrorReportIn, VitalsIn, inline_schema
from taskwell.rum.service import record_error, record_vitals
from taskwell.validation import StrictModel

router = APIRouter(prefix=API_V1, tags=["monitoring"])

VITALS_PATH = f"{API_V1}/rum/vitals"
ERRORS_PATH = f"{API_V1}/rum/errors"
# Body caps well under TASKWELL_MAX_BODY_BYTES (app.py hands them to the body limit): 20
# vitals fit in 2 kB, and an error report's fields, even escaped, in 60 kB.
BODY_LIMITS = {("POST", VITALS_PATH): 16 * 1_024, ("POST", ERRORS_PATH): 64 * 1_024}
_MEDIA_TYPES = frozenset(("application/json", "text/plain"))

Report = TypeVar("Report", bound=StrictModel)


class UnsupportedReportType(DomainError):
    slug, title, status = "unsupported-media-type", "Unsupported media type", 415


def _documented(model: type[StrictModel]) -> dict[str, Any]:
    schema = inline_schema(model)
    return {
        "requestBody": {
            "required": True,
            "content": {media_type: {"schema": schema} for media_type in sorted(_MEDIA_TYPES)},
        }
    }


_RESPONSES: dict[int | str, dict[str, Any]] = {
    **problem_responses(400, 413, 422, 429),
    415: {
        "description": "Send application/json (or text/plain holding JSON)",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
    },
}


async def _read(request: Request, model: type[Report]) -> Report:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in _MEDIA_TYPES:
        raise UnsupportedReportType("Send the report as application/json or text/plain JSON.")
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as exc:
        # The same 422 (or 400 for malformed JSON) as a body FastAPI parsed itself.
        errors = exc.errors(include_url=False, include_input=False)
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in errors]
        ) from None


@router.post(
    "/rum/vitals",
    status_code=204,
    dependencies=[limit("rum")],
    responses=_RESPONSES,
    openapi_extra=_documented(VitalsIn),
)
async def report_vitals(request: Request) -> Response:
    """Web vitals measured in the browser (1-20 per report)."""
    record_vitals((await _read(request, VitalsIn)).metrics)
    return Response(status_code=204)


@router.post(
    "/rum/errors",
    status_code=204,
    dependencies=[limit("rum")],
    responses=_RESPONSES,
    openapi_extra=_documented(ErrorReportIn),
)
async def report_error(request: Request) -> Response:
    """An uncaught error or unhandled rejection in the browser."""
    report = await _read(request, ErrorReportIn)
    record_error(report, request_id=getattr(request.state, "request_id", None))
    return Response(status_code=204)
