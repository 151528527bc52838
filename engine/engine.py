"""The engine's front door: run flows and scripts, continue and resume runs."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from engine.clock import Clock
from engine.errors import BadInput, NotFound
from engine.events import EventBus
from engine.executor.context import Services
from engine.executor.flow import RunResult, execute
from engine.executor import suspend as suspension
from engine.masking import MaskedStore, masker_for
from engine.resolver import Resolver

FINISHED = ("success", "failure", "canceled")


class Engine:
    """Runs OpenFlow flows durably against a store.

    Args:
        store: an `engine.store.Store`; default: `Store.open()` (DATABASE_URL or SQLite).
        runners: a `RunnerPool`; default: a new one, closed with the engine.
        clock: time source; tests pass a FakeClock.
        script_roots: folders where `script`/`flow` modules are looked up as files.
    """

    def __init__(self, *, store: Any = None, runners: Any = None, clock: Clock | None = None,
                 evaluator: Any = None, events: EventBus | None = None,
                 script_roots: list[str | Path] | None = None, workspace: str = "main"):
        from engine.expressions import Evaluator
        from engine.runners import RunnerPool
        from engine.store import Store

        self._own_runners = runners is None
        self.store = store if store is not None else Store.open()
        self.masker = masker_for(self.store, workspace)
        self.shown_store = MaskedStore(self.store, self.masker)
        """The store as operators are shown it: results, errors and logs with secrets masked."""
        self.services = Services(
            store=self.store,
            runners=runners if runners is not None else RunnerPool(),
            evaluator=evaluator if evaluator is not None else Evaluator(),
            events=events if events is not None else EventBus(),
            clock=clock if clock is not None else Clock(),
            resolver=Resolver(self.store, script_roots),
            workspace=workspace,
            masker=self.masker,
        )

    @property
    def events(self) -> EventBus:
        return self.services.events

    @property
    def clock(self) -> Clock:
        return self.services.clock

    async def close(self) -> None:
        if self._own_runners:
            await self.services.runners.close()

    async def __aenter__(self) -> "Engine":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def submit(self, flow: Any, args: dict[str, Any] | None = None, *, run_id: str | None = None,
               path: str = "", trigger: str = "api", status: str = "queued",
               scheduled_for: float | None = None, state: dict[str, Any] | None = None) -> str:
        """Validate args against the flow's schema and record a run; returns its id.

        `state` starts the run's state (e.g. the app's record of who started it).
        """
        [fields] = self._run_fields(flow, [args], path=path, trigger=trigger, status=status,
                                    scheduled_for=scheduled_for)
        return self.store.create_run(id=run_id or uuid.uuid4().hex, state=dict(state or {}), **fields).id

    def submit_many(self, flow: Any, args_list: list[dict[str, Any] | None], *, path: str = "",
                    trigger: str = "api", scheduled_for: float | None = None) -> list[str]:
        """Queue one run of a flow per args, in one transaction; returns their ids in order.

        Every args is validated before anything is recorded, so when one breaks the
        schema nothing is queued.
        """
        runs = self._run_fields(flow, args_list, path=path, trigger=trigger, status="queued",
                                scheduled_for=scheduled_for)
        return self.store.create_runs(runs)

    def _run_fields(self, flow: Any, args_list: list[dict[str, Any] | None], *, path: str, trigger: str,
                    status: str, scheduled_for: float | None) -> list[dict[str, Any]]:
        from engine.openflow import dump_value, validate_args

        document = as_document(flow)
        schema, value = document_schema(document), dump_value(document.value)
        when = scheduled_for if scheduled_for is not None else self.clock.now()
        return [{"kind": "flow", "path": path, "args": validate_args(schema, dict(args or {})), "flow": value,
                 "status": status, "trigger": trigger, "scheduled_for": when, "tag": "flow"}
                for args in args_list]

    async def run(self, flow: Any, args: dict[str, Any] | None = None, *, run_id: str | None = None,
                  path: str = "", trigger: str = "cli") -> RunResult:
        """Run a flow to its end (or until it waits for approval) in this process."""
        if run_id is not None and self.store.get_run(run_id) is not None:
            return await self.continue_run(run_id)
        run_id = self.submit(flow, args, run_id=run_id, path=path, trigger=trigger, status="running")
        return await self.continue_run(run_id)

    async def continue_run(self, run_id: str, *, run: Any = None) -> RunResult:
        """Continue a run from its journal: finished steps are replayed, never re-run.

        `run` is the run as the caller just read it (a worker's claim returns it), which
        saves reading it again; by default it is read from the store.
        """
        from engine.openflow import flow_from_data

        if run is None:
            run = self.store.get_run(run_id)
        if run is None:
            raise NotFound(f"run {run_id!r} not found")
        if run.status in FINISHED:
            return RunResult(run.id, run.status, run.result, run.error)
        if run.kind == "part":
            from engine.executor.parts import execute_part

            return await execute_part(self.services, run)
        document = flow_from_data({"value": run.flow}, source=f"run {run_id}")
        return await execute(self.services, run, document.value)

    async def recover(self) -> list[RunResult]:
        """Continue every run a previous process left running (crash recovery)."""
        results = []
        for run in self.store.list_runs(status="running", limit=10_000):
            if run.parent_run_id is None:
                results.append(await self.continue_run(run.id))
        return results

    def resume(self, run_id: str, resume_id: Any, approver: str | None = None,
               payload: Any = None, *, approve: bool = True, comment: str | None = None) -> str:
        """Record an approval (or, with approve=False, a cancel) of a waiting step.

        Returns the step's verdict: 'waiting', 'approved', 'rejected' or 'timed_out'.
        Once it is decided, the run goes back to the queue to be continued. Giving the
        same resume_id twice counts once. `comment` is kept with the decision (audit trail).

        Raises:
            NotFound: no such run, or it waits for no approval.
            BadInput: `approver` has decided on this step already (each approver counts once).
        """
        run = self.store.get_run(run_id)
        if run is None:
            raise NotFound(f"run {run_id!r} not found")
        key, row = _waiting_step(self.store, run)
        data = dict(row.data or {})
        state = data["suspend"]
        if suspension.decided_already(state, approver, str(resume_id)):
            raise BadInput(f"{approver} has already decided on step {row.step_id} of run {run_id}: "
                           "each approver counts once")
        suspension.add_decision(state, {
            "resume_id": str(resume_id), "approver": approver, "payload": payload,
            "approved": approve, "ts": self.clock.now(), "comment": comment,
        })
        self.store.save_step(run_id, key, data=data)
        verdict = suspension.decide(state, self.clock.now())
        self.services.events.publish(_event(run_id, key, row.step_id, approver, approve, verdict, self.clock.now()))
        if verdict != "waiting" and run.status == "suspended":
            self.store.update_run(run_id, status="queued", scheduled_for=self.clock.now())
        return verdict

    def cancel(self, run_id: str, resume_id: Any, approver: str | None = None, payload: Any = None) -> str:
        """Disapprove a waiting step: the run fails with SuspendedDisapproved."""
        return self.resume(run_id, resume_id, approver, payload, approve=False)

    def restart(self, run_id: str, from_key: str, *, trigger: str = "restart",
                state: dict[str, Any] | None = None) -> str:
        """Record a new run of the same flow and args that starts again at `from_key`.

        The journal records of the steps that ran before `from_key` (in execution order,
        loop iterations included) are copied with their logs, so the new run replays
        them and runs `from_key` and everything after it afresh. Steps that enclose
        `from_key` (a loop, a branch) run again around the copied records. The new run
        is queued: `continue_run` it, or let a worker claim it. `state` adds to the new
        run's state. Returns its id.

        Raises:
            NotFound: no run `run_id`, or `from_key` is not in its journal.
        """
        from engine.executor.restart import RestartPoint, unknown_step

        run = self.store.get_run(run_id)
        if run is None:
            raise NotFound(f"run {run_id!r} not found")
        if self.store.load_step(run_id, from_key) is None:
            raise unknown_step(from_key, [key for key, _ in self.store.step_keys(run_id, limit=21)])
        point = RestartPoint(from_key, run.flow)
        new = self.store.create_run(
            kind=run.kind, path=run.path, args=dict(run.args or {}), flow=run.flow, status="queued",
            trigger=trigger, tag=run.tag, workspace=run.workspace, scheduled_for=self.clock.now(),
            state={**(state or {}), "restarted_from": run_id, "from_key": from_key},
        )
        after = None
        while page := self.store.step_keys(run_id, after):  # a page at a time: a loop may have millions
            after = page[-1][0]
            self.store.copy_steps(run_id, new.id, [key for key, status in page if point.keeps(key, status)])
        return new.id

    async def continue_due(self) -> list[RunResult]:
        """Continue queued runs and suspended runs whose deadline has passed."""
        now, results = self.clock.now(), []
        for status in ("queued", "suspended"):
            for run in self.store.list_runs(status=status, limit=1000):
                if run.parent_run_id is None and (status == "queued" or (run.scheduled_for or 0) <= now):
                    results.append(await self.continue_run(run.id))
        return results


def _waiting_step(store: Any, run: Any) -> tuple[str, Any]:
    """The step a decision is for: of the steps still undecided, the one asked last.

    An earlier step whose approval timed out (and was carried on past, e.g. by a
    failure branch that escalates) may still look undecided; the run waits on the
    newest one.
    """
    from engine.run_journal import RunJournal

    waiting = [
        (key, row) for key, row in RunJournal(store, run).approval_steps().items()
        if (row.data or {}).get("suspend") is not None
        and suspension.decide(row.data["suspend"], float("-inf")) == "waiting"
    ]
    if not waiting:
        raise NotFound(f"run {run.id!r} has no step waiting for approval")
    return max(waiting, key=lambda item: item[1].data["suspend"].get("asked_at") or 0.0)


def _event(run_id: str, key: str, step_id: str, approver: Any, approve: bool, verdict: str, ts: float) -> Any:
    from engine.events import Event

    return Event(kind="approval", run_id=run_id, ts=ts, step_id=step_id, key=key,
                 data={"approver": approver, "approved": approve, "verdict": verdict})


def as_document(flow: Any) -> Any:
    """A FlowDocument from a document, a dict (full or bare value) or a file path."""
    from engine.openflow import FlowDocument, flow_from_data, load_flow

    if isinstance(flow, FlowDocument):
        return flow
    if isinstance(flow, dict):
        return flow_from_data(flow)
    if isinstance(flow, (str, os.PathLike)):
        return load_flow(flow)
    raise TypeError(f"cannot run a flow given as {type(flow).__name__}")


def document_schema(document: Any) -> dict[str, Any] | None:
    """The flow's input JSON Schema, if it has one."""
    from engine.openflow import dump_flow

    return dump_flow(document).get("schema")
