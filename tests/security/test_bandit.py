"""Bandit finds nothing of medium or high severity, at medium confidence or more, in src/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _bandit(*args: str) -> dict[str, Any]:
    run = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", "src", "-q", "-f", "json", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # Exit status 1 only says there are findings; anything else is bandit failing to run.
    assert run.returncode in (0, 1), run.stderr
    report: dict[str, Any] = json.loads(run.stdout)
    return report


def test_bandit_finds_no_medium_or_high_issue_in_src() -> None:
    report = _bandit("--severity-level", "medium", "--confidence-level", "medium")

    # A file bandit cannot parse is not scanned, so it must not pass silently.
    assert report["errors"] == []
    assert report["metrics"]["_totals"]["loc"] > 1000, "bandit scanned almost nothing"
    findings = [
        f"{r['filename']}:{r['line_number']} {r['test_id']} "
        f"({r['issue_severity']}/{r['issue_confidence']}) {r['issue_text']}"
        for r in report["results"]
    ]
    assert findings == []
