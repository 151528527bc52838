"""Times as the REST API shows them: ISO 8601 in UTC, as Windmill's OpenAPI says."""

from __future__ import annotations

import datetime


def iso(epoch: float | None) -> str | None:
    """`epoch` seconds as e.g. "2026-12-03T16:59:50.717233Z"; None stays None."""
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).isoformat().replace("+00:00", "Z")
