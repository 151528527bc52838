"""Approval requests: approval links asked for a named approver, listed in the app's inbox.

When an admin or a flow asks for links for bob, the request is recorded, and the
approvals inbox shows bob among those asked on that run's waiting step: the request
reaches bob whether or not the asker passes the links on.
"""

from __future__ import annotations

import time
from typing import Any, Iterable

from sqlalchemy import select

from app.services.models import ApprovalRequest


def record(credentials: Any, run_id: str, resume_id: str, approver: str, asked_by: str) -> None:
    """Remember that links for `approver` were asked for on run `run_id`."""
    row = ApprovalRequest(run_id=run_id, resume_id=resume_id, approver=approver, asked_by=asked_by, at=time.time())
    credentials.store.transact(lambda session: session.add(row))


def of_runs(credentials: Any, run_ids: Iterable[str]) -> dict[str, list[tuple[str, float]]]:
    """Per run, (approver, when asked) of every request, oldest first."""
    ids = list(run_ids)
    if not ids:
        return {}
    query = select(ApprovalRequest).where(ApprovalRequest.run_id.in_(ids)).order_by(ApprovalRequest.at)
    rows = credentials.store.transact(lambda session: session.exec(query).scalars().all(), read_only=True)
    out: dict[str, list[tuple[str, float]]] = {}
    for row in rows:
        out.setdefault(row.run_id, []).append((row.approver, row.at))
    return out


def asked_since(requests: list[tuple[str, float]], since: float | None) -> list[str]:
    """The approvers asked at or after `since` (a step's start), each once, in asking order."""
    names = [name for name, at in requests if since is None or at >= since]
    return list(dict.fromkeys(names))
