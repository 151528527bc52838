"""State of one run's page: status, args, result, steps with their logs, kept live.

What it shows is read in parts (`app.views.run_view`): the top level and a page of each loop's
iterations, with a page of log lines each, so a run of any length opens fast.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import reflex as rx

from app.views import flow_graph, present, run_view, step_detail
from app import routes
from app.services.engine_service import FINISHED, service
from app.services.offloop import DatabaseUnavailable, off_loop
from app.states.guard import caller
from app.states.session import record

WATCH_SECONDS = 600.0
"""How long a page keeps following a run that does not finish."""
REFRESH_SECONDS = 2.0
UNFINISHED = ("queued", "running", "suspended")


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
    steps: list[dict[str, str]] = []  # the top level, each loop followed by its page of iterations
    run_logs: str = ""
    timeline: list[dict[str, str]] = []
    decisions: list[dict[str, str]] = []  # approval decisions: the run's audit trail
    graph_nodes: list[dict[str, Any]] = []  # the flow snapshot as laid out for the canvas
    graph_edges: list[dict[str, Any]] = []
    graph_version: int = 0
    node_statuses: dict[str, str] = {}  # step id -> status in this run (the node's colour)
    node_durations: dict[str, str] = {}
    restart_keys: list[str] = []  # journal keys a restart can start from (those shown)
    restart_from: str = ""
    action_problem: str = ""
    restarted_from: str = ""
    detail: dict[str, str] = {}  # the step opened (a node or a row clicked): args, result, logs, timing
    detail_node: str = ""  # its step id, highlighted on the graph
    _graph_of: str = ""  # the run whose graph is laid out
    _watched_id: str = ""  # the run a watch task follows (one task per page at a time)
    _pages: dict[str, int] = {}  # loop key -> first iteration shown
    _log_pages: dict[str, int] = {}  # step key -> first log line shown

    @rx.var
    def cancelable(self) -> bool:
        """Whether the run has yet to end (queued, running or waiting): it can be canceled."""
        return self.found and self.status in UNFINISHED

    @rx.event
    async def load(self):
        """Show the run named by the URL, and follow it while it is not finished."""
        shown_id = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        if shown_id != self.shown_id:
            self._pages, self._log_pages = {}, {}
            self.detail, self.detail_node = {}, ""
        self.shown_id = shown_id
        self.restart_from = self.action_problem = ""
        await self._refresh()
        if self.found and self.status not in FINISHED:
            return RunState.watch

    @rx.event
    async def turn_page(self, what: str, key: str, start: str):
        """Show the page that starts at `start` (from 0) of a loop's iterations (`what`
        "iterations", `key` the loop's) or of a step's log lines ("logs", the step's key)."""
        if not start.isdigit() or not key or what not in ("iterations", "logs"):
            return
        if what == "iterations":
            self._pages = {**self._pages, key: int(start)}
        else:
            self._log_pages = {**self._log_pages, key: int(start)}
        await self._refresh()

    @rx.event
    async def open_node(self, step_id: str):
        """A node of the graph clicked: open its step (its top-level record, else the first
        iteration shown)."""
        shown = [row["key"] for row in self.steps]
        key = await off_loop(step_detail.key_of, service.store, self.shown_id, step_id, shown) if step_id else None
        await self._open(key or "", 0)

    @rx.event
    async def open_step(self, key: str):
        """A step row clicked: open it (again: close it)."""
        await self._open("" if key == self.detail.get("key") else key, 0)

    @rx.event
    async def result_page(self, page: str):
        """Show another page of the opened step's result."""
        if page.lstrip("-").isdigit() and self.detail:
            await self._open(self.detail["key"], int(page))

    async def _open(self, key: str, page: int) -> None:
        found = await off_loop(step_detail.read, service.store, self.shown_id, key, page) if key else None
        self.detail = found or {}
        self.detail_node = self.detail.get("step_id", "")

    @rx.event(background=True)
    async def watch(self):
        """Refresh on every event of the run (at least every few seconds) until it ends;
        resting between two refreshes as long as the last one took (a long loop sends
        thousands of events a second)."""
        async with self:
            if self._watched_id == self.shown_id:
                return
            run_id = self._watched_id = self.shown_id
            pages = self._paging()
        subscription = service.engine.events.subscribe(run_id)
        deadline, quiet_until = time.monotonic() + WATCH_SECONDS, 0.0
        try:
            while time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(subscription.get(), REFRESH_SECONDS)
                except TimeoutError:
                    pass
                # The first event after a quiet while shows at once; a burst waits its turn.
                await asyncio.sleep(max(0.0, quiet_until - time.monotonic()))
                while not subscription.queue.empty():  # one refresh for a burst of events
                    subscription.queue.get_nowait()
                began = time.monotonic()
                try:
                    view = await off_loop(run_view.read, service.store, run_id, pages)
                except DatabaseUnavailable:
                    continue  # the database is away: look again at the next event or refresh
                quiet_until = time.monotonic() + (time.monotonic() - began)
                async with self:
                    if self.shown_id != run_id:
                        break
                    if self._paging() == pages:
                        self._show(view)
                    pages = self._paging()
                    if self.status in FINISHED:
                        break
        finally:
            subscription.close()
            async with self:
                if self._watched_id == run_id:
                    self._watched_id = ""

    async def _refresh(self) -> None:
        self._show(await off_loop(run_view.read, service.store, self.shown_id, self._paging()))

    def _paging(self) -> run_view.Pages:
        return run_view.Pages(loops=dict(self._pages), logs=dict(self._log_pages))

    def _show(self, view: run_view.RunView | None) -> None:
        self.found = view is not None
        if view is None:
            self.status, self.steps = "", []
            return
        run = view.run
        row = present.run_row(run)
        error = run.error if isinstance(run.error, dict) else {}
        self._change(
            path=row["path"], status=row["status"], trigger=row["trigger"], created=row["created"],
            started=row["started"], duration=row["duration"], args_json=present.pretty_json(run.args or {}),
            result_json="" if run.result is None else present.pretty_json(run.result),
            error_message=str(error.get("message", "")) if run.error else "", steps=view.steps,
            run_logs=view.run_logs, timeline=present.timeline(run, view.shown, counts=view.counts),
            restart_keys=[step.key for step in view.shown],
            restarted_from=str((run.state or {}).get("restarted_from") or ""),
            decisions=[present.decision_row(d) for d in view.decisions])
        self._show_graph(run, view)

    def _change(self, **values: Any) -> None:
        """Set the vars whose value differs: only those go to the browser (a page watching
        a long run is refreshed many times a second, and its args never change)."""
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    def _show_graph(self, run: Any, view: run_view.RunView) -> None:
        # The layout changes only when another run is shown; statuses change as it runs.
        if self._graph_of != run.id:
            graph = flow_graph.build_graph({"value": run.flow or {}})
            self.graph_nodes, self.graph_edges = graph.nodes, graph.edges
            self.graph_version += 1
            self._graph_of = run.id
        durations = {step.step_id: present.duration(step.started_at, step.finished_at)
                     for step in view.shown if step.step_id and step.finished_at and step.iteration is None}
        for loop_id, count in view.counts.items():  # a top-level loop's key is its id
            durations[loop_id] = " · ".join(filter(None, [durations.get(loop_id, ""), f"×{count:,}"]))
        self._change(node_statuses=view.statuses, node_durations=durations)

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

    @rx.event
    async def cancel(self):
        """Stop this run (queued, running or waiting for approval): it ends canceled."""
        from engine import BadInput, NotFound

        try:
            await off_loop(service.cancel, self.shown_id, by=caller().username)
        except (BadInput, NotFound) as exc:
            self.action_problem = str(exc)
        else:
            self.action_problem = ""
        await self._refresh()

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
