"""State of the approvals inbox: runs waiting for an approval, and the one under review.

Reviewing a run shows the results of its earlier steps and, when the waiting step has a
`resume_form`, a form generated from that JSON Schema; its values become the payload
the next steps receive as `resume`. Every decision keeps its comment (the audit trail).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import reflex as rx

from app.services import approval_requests, approvals
from app.views import present
from app.services.engine_service import service
from app.services.offloop import DatabaseUnavailable, off_loop
from app.states.guard import caller
from components.schema_form import SchemaFormState
from engine import RunJournal

LIMIT = 200
WATCH_SECONDS = 600.0
"""How long an open inbox follows new requests and decisions without a reload."""
REFRESH_SECONDS = 2.0
RECHECK_SECONDS = 5.0
INBOX_EVENTS = frozenset({"run_suspended", "approval", "run_finished", "run_resumed"})
CONTEXT_CHARS = 2000
"""Characters of each earlier step's result shown for context (the run page has it all)."""
COMMENT_FIELD = "__comment"
"""The comment's form field: a name no schema property is likely to have."""
FORM_COMMENT = "comment"
"""A resume form's own comment field, which the review uses as the decision's comment."""


class ApprovalsState(SchemaFormState, rx.State):
    """The waiting runs, the one under review, and the last decision's outcome."""

    waiting: list[dict[str, str]] = []
    notice: str = ""
    reviewing: str = ""
    review: dict[str, str] = {}
    context: list[dict[str, str]] = []
    approving: bool = True
    _watching: bool = False  # a watch task keeps the list current (one per page at a time)

    @rx.event
    async def load(self):
        """List the waiting runs, and keep the list current while the page is open."""
        self._show_rows(await off_loop(_waiting_rows))
        return ApprovalsState.watch

    @rx.event(background=True)
    async def watch(self):
        """Refresh the list when a run starts or stops waiting or a decision is recorded
        (another approver's, a link's, the next step of a chain asking), for WATCH_SECONDS."""
        async with self:
            if self._watching:
                return
            self._watching = True
        subscription = service.engine.events.subscribe(kinds=INBOX_EVENTS)
        deadline, recheck_until = time.monotonic() + WATCH_SECONDS, time.monotonic() + RECHECK_SECONDS
        try:
            # What happened between the page's first read and the subscription sent no
            # event here: read the list again at once (and a while after, as for an event).
            await self._refresh()
            while time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(subscription.get(), REFRESH_SECONDS)
                except TimeoutError:
                    # A run says it waits just before its status says so: look again a while.
                    if time.monotonic() > recheck_until:
                        continue
                else:
                    recheck_until = time.monotonic() + RECHECK_SECONDS
                while not subscription.queue.empty():  # one refresh for a burst of events
                    subscription.queue.get_nowait()
                await self._refresh()
        finally:
            subscription.close()
            async with self:
                self._watching = False

    async def _refresh(self) -> None:
        """Read the waiting runs again and show them (a database away: the next time)."""
        try:
            rows = await off_loop(_waiting_rows)
        except DatabaseUnavailable:
            return
        async with self:
            self._show_rows(rows)

    def _show_rows(self, rows: list[dict[str, str]]) -> None:
        self.waiting = rows
        if self.reviewing and self.reviewing not in {row["id"] for row in rows}:
            self.reviewing, self.review, self.context = "", {}, []

    @rx.event
    async def decide(self, run_id: str, approve: bool) -> None:
        """Approve or reject the step the run waits on (the run then goes on, or fails)."""
        await self._decide(run_id, approve, None, "")

    @rx.event
    async def start_review(self, run_id: str) -> None:
        """Show the run's context and its step's resume form."""
        run, waiting, steps = await off_loop(_waiting_for, run_id)
        if waiting is None:
            self.notice = f"Run {run_id[:8]} waits for no approval any more."
            self._show_rows(await off_loop(_waiting_rows))
            return
        key, state, options = waiting
        form = options.get("resume_form") or {}
        self.reviewing = run_id
        self.review = {"id": run_id, "short_id": run_id[:8], "path": run.path or "(ad hoc)", "step": key,
                       "asked": present.when(state.get("asked_at")), "deadline": present.when(state.get("deadline")),
                       "started_by": (run.state or {}).get("started_by") or ""}
        self.context = _context(steps)
        self.show_schema(form.get("schema") if isinstance(form, dict) else None)
        self.approving = True

    @rx.event
    def close_review(self) -> None:
        self.reviewing, self.review, self.context = "", {}, []

    @rx.event
    def choose_reject(self) -> None:
        """The next submit of the review form rejects (the Reject button sets this first)."""
        self.approving = False

    @rx.var
    def form_comment(self) -> bool:
        """Whether the step's resume form asks for a comment itself: then that field is the
        decision's comment, and the review shows no second one."""
        field = ((self.form_schema or {}).get("properties") or {}).get(FORM_COMMENT)
        return isinstance(field, dict) and field.get("type", "string") == "string"

    @rx.event
    async def submit_review(self, form_data: dict[str, Any]) -> None:
        data = dict(form_data)
        typed = data.pop(COMMENT_FIELD, "")
        if self.form_comment:  # the form's own field is the comment (and stays in the payload)
            typed = data.get(FORM_COMMENT, "")
        comment = str(typed or "").strip()
        approve, self.approving = self.approving, True
        payload: dict[str, Any] | None = {}
        if approve:
            payload = self.check_form(data)
            if payload is None:
                return
        await self._decide(self.reviewing, approve, payload, comment)

    async def _decide(self, run_id: str, approve: bool, payload: Any, comment: str) -> None:
        """Decide in the logged-in user's name (the engine's decision and the audit log keep it)."""
        from engine import BadInput, NotFound

        try:
            self.notice = await off_loop(_decided, run_id, approve, payload, comment)
        except (BadInput, NotFound) as exc:  # e.g. this user has decided already
            self.notice = str(exc)
        self._show_rows(await off_loop(_waiting_rows))


def _waiting_rows() -> list[dict[str, str]]:
    """The runs waiting for an approval, as the inbox lists them."""
    store, rows = service.store, []
    runs = store.list_runs(status="suspended", top_level=True, limit=LIMIT)
    requests = approval_requests.of_runs(service.credentials, [run.id for run in runs])
    for run in runs:
        row = present.approval_row(run, RunJournal(store, run).approval_steps(), requests.get(run.id))
        if row is not None:
            rows.append(row)
    return rows


def _waiting_for(run_id: str) -> tuple[Any, Any, list[Any]]:
    """The run, the step it waits on (None when none) and the steps around it."""
    run = service.store.get_run(run_id)
    waiting = approvals.waiting_step(service.store, run) if run is not None else None
    return run, waiting, RunJournal(service.store, run).around(waiting[0]) if waiting is not None else []


def _decided(run_id: str, approve: bool, payload: Any, comment: str) -> str:
    """The caller's decision, when they may decide: what the page says of it."""
    who = caller()
    run, waiting, _ = _waiting_for(run_id)
    refused = approvals.refusal(run, waiting[2], approver=who.username, via_link=False,
                                approve=approve) if waiting else None
    if refused:
        return refused
    verdict = service.decide(run_id, approve=approve, approver=who.username, payload=payload, comment=comment or None)
    return f"Run {run_id[:8]}: {verdict}."


def _context(steps: list[Any]) -> list[dict[str, str]]:
    """The finished steps' results, in the order they ran, each cut to CONTEXT_CHARS."""
    done = [row for row in steps if row.status in ("success", "waiting")]
    out = []
    for row in sorted(done, key=lambda r: r.started_at or 0.0):
        text = json.dumps(row.result, indent=1, default=str)
        out.append({"step": row.step_id, "result": text[:CONTEXT_CHARS] + ("…" if len(text) > CONTEXT_CHARS else "")})
    return out
