"""Where each test's section is in report.html, so summary.md and the scorecard can link to it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

HTML_NAME = "report.html"


def has_section(test: dict[str, Any]) -> bool:
    """Contract tests, tests with a verdict, and failures get a section; plain unit tests do not."""
    return bool(
        test.get("case")
        or test.get("windows")
        or test.get("verdicts")
        or test.get("outcome") in ("failed", "error")
    )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "test"


def section_ids(tests: Iterable[dict[str, Any]]) -> dict[str, str]:
    """node id -> a stable HTML id: the case id (row-target) when there is one, readable in URLs."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for test in tests:
        if not has_section(test):
            continue
        base = _slug(test.get("case") or test["nodeid"].rpartition("/")[2])
        anchor, n = base, 2
        while anchor in taken:  # two tests of one case (another suite): keep both reachable
            anchor, n = f"{base}-{n}", n + 1
        taken.add(anchor)
        ids[test["nodeid"]] = anchor
    return ids


def link(anchor: str) -> str:
    return f"{HTML_NAME}#{anchor}"
