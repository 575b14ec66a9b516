"""Browser stack traces (Chromium's "at f (url:1:2)", Firefox's and Safari's "f@url:1:2")
read into frames, so that error tracking shows where in the bundle an error happened."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_FRAMES = 50
# "    at render (https://host/assets/index-3f2a.js:12:34)" or "    at https://host/a.js:1:2"
_CHROMIUM = re.compile(
    r"^\s*at (?:(?P<function>.+?) \()?(?P<location>\S+?):(?P<lineno>\d+):(?P<colno>\d+)\)?\s*$"
)
# "render@https://host/assets/index-3f2a.js:12:34" (function may be empty)
_GECKO_WEBKIT = re.compile(
    r"^\s*(?P<function>[^@\s]*)@(?P<location>\S+?):(?P<lineno>\d+):(?P<colno>\d+)\s*$"
)
_NAMED = re.compile(r"^(?P<type>[A-Za-z_$][\w$.]*(?:Error|Exception)): (?P<value>.*)$", re.DOTALL)


@dataclass(frozen=True)
class Frame:
    filename: str
    function: str
    lineno: int
    colno: int
    abs_path: str


def _without_query(location: str) -> str:
    return location.split("?", 1)[0].split("#", 1)[0]


def _path_of(location: str) -> str:
    """The path of a URL ("/assets/index-3f2a.js"): the same file on every host."""
    match = re.match(r"^[a-z][a-z0-9+.-]*://[^/]+(?P<path>/.*)?$", location, re.IGNORECASE)
    if match:
        return match.group("path") or "/"
    return location


def parse_stack(stack: str) -> list[Frame]:
    """Frames oldest call first (Sentry's order); lines that are not frames are skipped."""
    frames: list[Frame] = []
    for line in stack.splitlines():
        match = _CHROMIUM.match(line) or _GECKO_WEBKIT.match(line)
        if match is None:
            continue
        location = _without_query(match.group("location"))
        frames.append(
            Frame(
                filename=_path_of(location),
                function=match.group("function") or "?",
                lineno=int(match.group("lineno")),
                colno=int(match.group("colno")),
                abs_path=location,
            )
        )
        if len(frames) == MAX_FRAMES:
            break
    frames.reverse()
    return frames


def error_type(message: str) -> tuple[str, str]:
    """("TypeError", "x is undefined") from "TypeError: x is undefined"; otherwise the whole
    message under the type "Error"."""
    match = _NAMED.match(message)
    if match is None:
        return "Error", message
    return match.group("type"), match.group("value")
