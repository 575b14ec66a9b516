"""What a new password must be: long enough, not too long, and not guessable."""

from __future__ import annotations

from typing import Any

import anyio
from zxcvbn import zxcvbn

from taskwell.auth.passwords import normalise
from taskwell.errors import Unprocessable
from taskwell.settings import Settings


class WeakPassword(Unprocessable):
    slug, title, status = "weak-password", "The password is too weak", 422


class PasswordPolicy:
    def __init__(self, settings: Settings) -> None:
        self.min_length = settings.password_min_length
        self.max_length = settings.password_max_length
        self.min_score = settings.password_min_score

    async def check(self, password: str, *, context: list[str]) -> None:
        """Refuse lengths outside the bounds, NULs, and what zxcvbn's lists and rules guess.

        zxcvbn ships the frequency lists of common passwords, names and words it matches
        against, so one check covers "common" and "guessable"; no composition rules.
        The password is judged as it will be hashed and verified (NFKC): typed in full-width
        letters, "password123456" still logs in as "password123456" and is just as weak.
        """
        password = normalise(password)
        length = len(password)
        if length < self.min_length or length > self.max_length:
            message = f"Use between {self.min_length} and {self.max_length} characters."
            raise WeakPassword(
                message,
                extra={
                    "errors": [
                        {"field": "password", "in": "body", "message": message, "code": "length"}
                    ]
                },
            )
        if "\x00" in password:
            raise WeakPassword("The password may not contain NUL characters.")
        result = await anyio.to_thread.run_sync(_score, password, context)
        if result["score"] < self.min_score:
            feedback = result.get("feedback") or {}
            hint = feedback.get("warning") or "It is too easy to guess."
            suggestions = [str(s) for s in feedback.get("suggestions") or []]
            raise WeakPassword(
                f"{hint} A longer phrase of unrelated words works well.".strip(),
                extra={"suggestions": suggestions},
            )


def _score(password: str, context: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = zxcvbn(
        password, user_inputs=[c for c in context if c], max_length=len(password)
    )
    return result
