"""A loop's progress, kept on its own journal record: how many iterations have ended, by
status, and which steps failed. Pages show it instead of reading every iteration.

It is saved with the loop's record when the loop ends (exact), and while the loop runs
after every `SAVE_EVERY` iterations or `SAVE_SECONDS` of its time, whichever comes first,
so a page following the run stays current at the cost of one small write per batch.
"""

from __future__ import annotations

from typing import Any

from engine.executor.context import RunContext
from engine.executor.outcome import Outcome

SAVE_EVERY = 500
SAVE_SECONDS = 1.0


class LoopProgress:
    """Counts a loop's iterations as they end, on `record.data["progress"]`:
    `{"iterations": 1200, "statuses": {"success": 1198, "failure": 2}, "failed_steps": {"s": 2}}`.
    """

    def __init__(self, ctx: RunContext, key: str):
        self.ctx, self.key = ctx, key
        self.state: dict[str, Any] = {"iterations": 0, "statuses": {}, "failed_steps": {}}
        self.unsaved = 0
        self.saved_at = ctx.clock.now()
        record = ctx.journal.get(key)
        if record is not None:
            record.data["progress"] = self.state  # a retried loop starts counting again

    def add(self, outcome: Outcome) -> None:
        """One iteration ended with `outcome`."""
        state = self.state
        state["iterations"] += 1
        state["statuses"][outcome.status] = state["statuses"].get(outcome.status, 0) + 1
        if outcome.failed:
            step_id = str((outcome.error or {}).get("step_id") or "")
            state["failed_steps"][step_id] = state["failed_steps"].get(step_id, 0) + 1
        self.unsaved += 1
        if self.unsaved >= SAVE_EVERY or self.ctx.clock.now() - self.saved_at >= SAVE_SECONDS:
            self._save()

    def _save(self) -> None:
        record = self.ctx.journal.get(self.key)
        if record is not None and not record.done:
            self.ctx.journal.save(self.key, record)
        self.unsaved, self.saved_at = 0, self.ctx.clock.now()
