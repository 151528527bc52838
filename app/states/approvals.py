"""State of the approvals page: runs waiting for an approval, and the decision on each."""

from __future__ import annotations

import reflex as rx

from app import present
from app.engine_service import service

LIMIT = 200


class ApprovalsState(rx.State):
    """The waiting runs and the last decision's outcome."""

    waiting: list[dict[str, str]] = []
    notice: str = ""

    @rx.event
    def load(self) -> None:
        store = service.store
        rows = []
        for run in store.list_runs(status="suspended", top_level=True, limit=LIMIT):
            row = present.approval_row(run, store.load_steps(run.id))
            if row is not None:
                rows.append(row)
        self.waiting = rows

    @rx.event
    def decide(self, run_id: str, approve: bool) -> None:
        """Approve or reject the step the run waits on (the run then goes on, or fails)."""
        from engine import NotFound

        try:
            verdict = service.decide(run_id, approve=approve, approver="admin (web)")
        except NotFound as exc:
            self.notice = str(exc)
        else:
            self.notice = f"Run {run_id[:8]}: {verdict}."
        self.load()
