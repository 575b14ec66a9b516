"""The one failure every key-value backend reports: the store could not be reached."""

from taskwell.errors import DomainError


class StoreUnavailable(DomainError):
    slug, title, status = (
        "store-unavailable",
        "A backing service is unavailable",
        503,
    )

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(
            detail or "A backing service could not be reached just now; retry shortly.",
            headers={"Retry-After": "1"},
        )
