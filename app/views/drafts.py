"""Drafts of unsaved flow edits, as the editor's browser keeps them (pure functions).

The browser stores `{"document": <the document as JSON text>, "version": <the version it
was edited from>, "saved_at": <ms since the epoch>}` per flow (assets/unsaved_guard.jsx).
"""

from __future__ import annotations

import json
import time
from typing import Any


class BadDraft(ValueError):
    """A stored draft that is not one (another program's key, a cut-off write)."""


def as_text(document: dict[str, Any]) -> str:
    """The document as a draft keeps it."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def read(kept: str) -> tuple[dict[str, Any], str]:
    """The draft's document and a line saying what it is ("from version 3, 14:02:11").

    Raises:
        BadDraft: `kept` is not a draft.
    """
    try:
        data = json.loads(kept)
        document = json.loads(data["document"])
        version, saved_at = int(data.get("version") or 0), float(data.get("saved_at") or 0) / 1000
    except (ValueError, TypeError, KeyError) as exc:
        raise BadDraft(f"not a draft of this flow: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("value"), dict):
        raise BadDraft("not a draft of this flow: it holds no flow document")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(saved_at)) if saved_at else "an earlier visit"
    return document, f"edited from version {version}, kept {when}"


def differs(draft: dict[str, Any], document: dict[str, Any]) -> bool:
    """Whether the draft holds edits the document has not."""
    return as_text(draft) != as_text(document)
