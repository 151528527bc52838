"""State of one run's page: status, args, result, steps with their logs, kept live."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any

import reflex as rx

from app import approvals, flow_graph, present, routes
from app.engine_service import FINISHED, service
from app.offloop import off_loop, when_available
from app.states.guard import caller
from app.states.session import record

MAX_LOG_LINES = 2000
"""Log lines shown per run; the rest stays in the store (logs are paged, never held whole)."""
WATCH_SECONDS = 600.0
"""How long a page keeps following a run that does not finish."""
REFRESH_SECONDS = 2.0


class RunState(rx.State):
    """One run as shown, refreshed while it runs."""

    shown_id: str = ""
    found: bool = True
    path: str = ""
    status: str = ""
    trigger: str = ""
    created: str = ""
    started: str = ""
    duration: str = ""
    args_json: str = ""
    result_json: str = ""
    error_message: str = ""
    steps: list[dict[str, str]] = []
    run_logs: str = ""
    logs_cut: bool = False
    timeline: list[dict[str, str]] = []
    decisions: list[dict[str, str]] = []  # approval decisions: the run's audit trail
    graph_nodes: list[dict[str, Any]] = []  # the flow snapshot as laid out for the canvas
    graph_edges: list[dict[str, Any]] = []
    graph_version: int = 0
    node_statuses: dict[str, str] = {}  # step id -> status in this run (the node's colour)
    node_durations: dict[str, str] = {}
    restart_keys: list[str] = []  # journal keys a restart can start from
    restart_from: str = ""
    action_problem: str = ""
    restarted_from: str = ""
    _graph_of: str = ""  # the run whose graph is laid out
    _watched_id: str = ""  # the run a watch task follows (one task per page at a time)

    @rx.event
    async def load(self):
        """Show the run named by the URL, and follow it while it is not finished."""
        self.shown_id = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        self.restart_from = self.action_problem = ""
        self._show(*await off_loop(_read, self.shown_id))
        if self.found and self.status not in FINISHED:
            return RunState.watch

    @rx.event(background=True)
    async def watch(self):
        """Refresh on every event of the run (at least every few seconds) until it ends."""
        async with self:
            if self._watched_id == self.shown_id:
                return
            run_id = self._watched_id = self.shown_id
        subscription = service.engine.events.subscribe(run_id)
        deadline = time.monotonic() + WATCH_SECONDS
        try:
            while time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(subscription.get(), REFRESH_SECONDS)
                except TimeoutError:
                    pass
                while not subscription.queue.empty():  # one refresh for a burst of events
                    subscription.queue.get_nowait()
                shown = await when_available(_read, run_id)
                if shown is None:
                    continue  # the database is away: look again at the next event or refresh
                async with self:
                    if self.shown_id != run_id:
                        break
                    self._show(*shown)
                    if self.status in FINISHED:
                        break
        finally:
            subscription.close()
            async with self:
                if self._watched_id == run_id:
                    self._watched_id = ""

    def _show(self, run: Any, logs: list[Any], steps: list[Any]) -> None:
        """Show the run as read by `_read` (None: not found)."""
        self.found = run is not None
        if run is None:
            self.status, self.steps = "", []
            return
        row = present.run_row(run)
        self.path, self.status, self.trigger = row["path"], row["status"], row["trigger"]
        self.created, self.started, self.duration = row["created"], row["started"], row["duration"]
        self.args_json = present.pretty_json(run.args or {})
        self.result_json = "" if run.result is None else present.pretty_json(run.result)
        error = run.error if isinstance(run.error, dict) else {}
        self.error_message = str(error.get("message", "")) if run.error else ""
        self.logs_cut = len(logs) > MAX_LOG_LINES
        by_step: dict[str | None, list[str]] = defaultdict(list)
        for entry in logs[:MAX_LOG_LINES]:
            by_step[entry.step_key].append(entry.line)
        ordered = sorted(steps, key=lambda step: (step.started_at or float("inf"), step.key))
        self.steps = [present.step_row(step, by_step.get(step.key, [])) for step in ordered]
        self.run_logs = "\n".join(by_step.get(None, []))
        self.timeline = present.timeline(run, list(ordered))
        self._show_graph(run, list(ordered))
        self.restart_keys = [step.key for step in ordered]
        self.restarted_from = str((run.state or {}).get("restarted_from") or "")
        self.decisions = [present.decision_row(d) for d in approvals.decisions({s.key: s for s in ordered})]

    def _show_graph(self, run: Any, steps: list[Any]) -> None:
        # The layout changes only when another run is shown; statuses change as it runs.
        if self._graph_of != run.id:
            graph = flow_graph.build_graph({"value": run.flow or {}})
            self.graph_nodes, self.graph_edges = graph.nodes, graph.edges
            self.graph_version += 1
            self._graph_of = run.id
        self.node_statuses = present.step_statuses(steps, run_suspended=run.status == "suspended")
        self.node_durations = {step.step_id: present.duration(step.started_at, step.finished_at)
                               for step in steps if step.step_id and step.finished_at and step.iteration is None}

    @rx.event
    def set_restart_from(self, key: str) -> None:
        self.restart_from = key

    @rx.event
    async def rerun(self):
        """A new run of the same flow snapshot with the same args; opens it."""
        shown_id, who = self.shown_id, caller()
        return await self._start_new("rerun", lambda: service.rerun(shown_id, started_by=who))

    @rx.event
    async def restart(self):
        """A new run reusing the results before the chosen step; opens it."""
        if not self.restart_from:
            self.action_problem = "choose the step to restart from"
            return None
        shown_id, key, who = self.shown_id, self.restart_from, caller()
        return await self._start_new(f"restart from {key}", lambda: service.restart(shown_id, key, started_by=who))

    async def _start_new(self, how: str, start: Any) -> Any:
        from engine import BadInput, NotFound

        try:
            new_id = await off_loop(start)
        except (BadInput, NotFound) as exc:
            self.action_problem = str(exc)
            return None
        self.action_problem = ""
        await off_loop(record, "run.started", self.path, f"{new_id} ({how} of {self.shown_id})")
        return rx.redirect(routes.run_url(new_id))


def _read(run_id: str) -> tuple[Any, list[Any], list[Any]]:
    """The run (None when there is none), its first log lines (one more than shown, to
    tell when some are left out) and its step records."""
    store = service.store
    run = store.get_run(run_id)
    if run is None:
        return None, [], []
    return run, store.get_logs(run.id, limit=MAX_LOG_LINES + 1), list(store.load_steps(run.id).values())
