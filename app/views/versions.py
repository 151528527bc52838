"""A flow's saved versions as the editor's history shows them, and a line diff of two.

Versions are compared as YAML (the form people read and export flows in), line by line
with `difflib`; the diff is a list of flat rows of strings for `rx.foreach`. Nothing here
touches the page or the store.
"""

from __future__ import annotations

import difflib
import time
from typing import Any

import yaml

CONTEXT_LINES = 3
"""Unchanged lines shown around each change."""


def version_rows(versions: list[Any]) -> list[dict[str, str]]:
    """One row per saved version (anything with version, created_at, created_by, summary)."""
    return [{"version": str(row.version), "when": format_time(row.created_at),
             "by": str(row.created_by or "admin"), "summary": str(row.summary or "")} for row in versions]


def format_time(seconds: float) -> str:
    """A timestamp as 'YYYY-MM-DD HH:MM:SS' (UTC)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


def yaml_text(document: Any) -> str:
    """A flow document as YAML, keys in their saved order."""
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def diff_rows(old: Any, new: Any) -> list[dict[str, str]]:
    """The line diff of two documents' YAML.

    Each row has `kind` ("same", "removed", "added" or "gap" between hunks), the line
    `text`, and its line numbers `old` / `new` ("" where the line is not on that side).
    Two equal documents give no rows.
    """
    before, after = yaml_text(old).splitlines(), yaml_text(new).splitlines()
    rows: list[dict[str, str]] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for number, group in enumerate(matcher.get_grouped_opcodes(CONTEXT_LINES)):
        if number:
            rows.append(_line("gap", "…", "", ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(_line("same", before[i], i + 1, j1 + i - i1 + 1) for i in range(i1, i2))
                continue
            rows.extend(_line("removed", before[i], i + 1, "") for i in range(i1, i2))
            rows.extend(_line("added", after[j], "", j + 1) for j in range(j1, j2))
    return rows


def _line(kind: str, text: str, old: int | str, new: int | str) -> dict[str, str]:
    return {"kind": kind, "text": text, "old": str(old), "new": str(new)}


def diff_summary(rows: list[dict[str, str]]) -> str:
    """'+3 −1' for a diff, or 'no differences'."""
    added = sum(row["kind"] == "added" for row in rows)
    removed = sum(row["kind"] == "removed" for row in rows)
    return f"+{added} −{removed}" if rows else "no differences"
