"""The engine's front door: queue runs, drive them, decide on approvals, restart runs.

One way in: every run, whoever starts it (a page, REST, a webhook, a schedule, a
rerun or restart, the CLI), is queued by `submit`/`submit_many`. One driver: every
run is then claimed and continued by a queue worker (engine/worker.py): the app's,
a `python -m engine worker` process's, or, for `run`/`drive`, one this process serves
while it waits for the run.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from engine.clock import Clock
from engine.errors import BadInput, NotFound
from engine.events import EventBus
from engine.executor.context import Services
from engine.executor.flow import RunResult
from engine.executor import suspend as suspension
from engine.executor.snapshots import SnapshotCache
from engine.masking import MaskedStore, masker_for
from engine.resolver import Resolver

_SUBMITTED = SnapshotCache()
"""Flows given as dicts: their schema and snapshot."""

# A restarted run is held back this long while the journal it reuses is copied, so no
# worker starts it first; should the copy be cut short, it starts anyway after that.
RESTART_HOLD_SECONDS = 60.0


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
        self.driver: Any = None
        """The queue worker driving runs in this process (engine/worker.py), if any."""

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

    def submit(self, flow: Any, args: dict[str, Any] | None = None, *, kind: str = "flow",
               run_id: str | None = None, path: str = "", trigger: str = "api",
               scheduled_for: float | None = None, state: dict[str, Any] | None = None,
               workspace: str | None = None, schedule_id: str | None = None, exist_ok: bool = False,
               held_by: str | None = None) -> str:
        """Queue a run: the one way a run comes in. Returns its id.

        Args:
            flow: a flow document, a dict (a full document or a bare flow value, as a
                run's snapshot is), or a flow file's path.
            args: checked against the flow's schema, defaults filled in.
            kind: "flow", or "script" for a script run as a one-step flow.
            run_id: the run's id (a uuid when None); deterministic ids with `exist_ok`
                make queueing idempotent (a schedule's firings).
            path: the flow or script path (or a file name) it runs.
            trigger: what started it: "api", "ui", "webhook", "schedule", "rerun", ...
            scheduled_for: when it may start (now when None).
            state: the run's first state (e.g. who started it).
            workspace: its workspace; the engine's when None.
            schedule_id: the schedule whose firing it is.
            exist_ok: when a run with this id exists, return its id instead of raising.
            held_by: the queue worker of this process that runs it at once (`run`):
                the run starts held by it, as if claimed, so no other worker takes it.

        Raises:
            ArgsValidationError: the args break the flow's schema.
            FlowValidationError: the flow is not a valid OpenFlow flow.
            BadInput: a run with this id exists (without `exist_ok`).
        """
        [fields] = self._run_fields(flow, [args], kind=kind, path=path, trigger=trigger,
                                    scheduled_for=scheduled_for, workspace=workspace)
        if held_by is not None:
            fields.update(status="running", worker_id=held_by, heartbeat_at=self.clock.now())
        return self.store.create_run(id=run_id or uuid.uuid4().hex, state=dict(state or {}), exist_ok=exist_ok,
                                     schedule_id=schedule_id, **fields).id

    def submit_many(self, flow: Any, args_list: list[dict[str, Any] | None], *, path: str = "",
                    trigger: str = "api", scheduled_for: float | None = None) -> list[str]:
        """Queue one run of a flow per args, in one transaction; returns their ids in order.

        Every args is validated before anything is recorded, so when one breaks the
        schema nothing is queued.
        """
        runs = self._run_fields(flow, args_list, kind="flow", path=path, trigger=trigger,
                                scheduled_for=scheduled_for, workspace=None)
        return self.store.create_runs(runs)

    def _run_fields(self, flow: Any, args_list: list[dict[str, Any] | None], *, kind: str, path: str,
                    trigger: str, scheduled_for: float | None, workspace: str | None) -> list[dict[str, Any]]:
        from engine.openflow import validate_args

        schema, value = _schema_and_snapshot(flow)
        when = scheduled_for if scheduled_for is not None else self.clock.now()
        place = workspace or self.services.workspace
        return [{"kind": kind, "path": path, "args": validate_args(schema, dict(args or {})), "flow": value,
                 "status": "queued", "trigger": trigger, "scheduled_for": when, "tag": "flow",
                 "workspace": place} for args in args_list]

    def rerun(self, run_id: str, *, state: dict[str, Any] | None = None) -> str:
        """Queue a new run of the same flow snapshot with the same args; returns its id.

        Raises:
            NotFound: no run `run_id`.
            BadInput: it has no flow (it failed before it started).
        """
        run = _run_again(self.store, run_id)
        return self.submit(run.flow, dict(run.args or {}), kind=run.kind, path=run.path, trigger="rerun",
                           state=state, workspace=run.workspace)

    async def run(self, flow: Any, args: dict[str, Any] | None = None, *, run_id: str | None = None,
                  path: str = "", trigger: str = "cli", **driving: Any) -> RunResult:
        """Queue a run of a flow and drive it here to its end, or until it waits for approval.

        The run is queued held by the driver of this process, which runs it at once:
        another worker on the same store (an app serving it too) does not take it.
        With the id of a run that exists, that run is driven instead (continued from
        its journal once no live worker holds it). `driving` goes to `drive`.
        """
        if run_id is not None and self.store.get_run(run_id) is not None:
            return await self.drive(run_id, **driving)
        driver = self._driver(driving)
        run_id = self.submit(flow, args, run_id=run_id, path=path, trigger=trigger, held_by=driver.worker_id)
        return await driver.follow(run_id, held=True)

    async def drive(self, run_id: str, *, through_approvals: bool = False, **options: Any) -> RunResult:
        """Drive a queued (or interrupted) run through the queue driver in this process.

        The driver serving this engine takes the run; when none serves it, one is
        served for as long as the run is driven, taking only the runs driven here
        (and their parts). A run held by a worker that died is taken over once its
        heartbeat is older than the driver's `stale_after`.

        Args:
            run_id: the run.
            through_approvals: keep driving while it waits for approval, until it
                ends; otherwise return as soon as it waits.
            **options: QueueWorker options (heartbeat, stale_after, poll, ...) of a
                driver started for this call.

        Returns:
            How it ended, or that it waits ("suspended").

        Raises:
            NotFound: no run `run_id`.
        """
        return await self._driver(options).follow(run_id, through_approvals=through_approvals)

    def _driver(self, options: dict[str, Any]) -> Any:
        """The queue worker serving this engine, or a new one scoped to the runs driven here."""
        from engine.worker import QueueWorker

        if self.driver is None or self.driver.stopping:
            # Nothing else waits for what is left of it once the driven runs end.
            self.driver = QueueWorker(self, scope=(), **{"grace": 0, **options})
        return self.driver

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

    def cancel_run(self, run_id: str, by: str | None = None, reason: str | None = None) -> list[str]:
        """Stop a queued, running or waiting run, with the runs of its tree: it ends
        "canceled". A step running in this process is stopped at once (its script is
        killed); one running on another worker is stopped at that worker's next heartbeat.

        Returns the ids of the runs canceled, the run's first.

        Raises:
            NotFound: no run `run_id`.
            BadInput: the run has ended already: there is nothing to cancel.
        """
        run = self.store.get_run(run_id)
        if run is None:
            raise NotFound(f"run {run_id!r} not found")
        message = (f"canceled by {by}" if by else "canceled") + (f": {reason}" if reason else "")
        error = {"name": "Canceled", "message": message, "stack": ""}
        canceled = self.store.cancel_tree(run_id, error, self.clock.now())
        if run_id not in canceled:
            ended = self.store.get_run(run_id)
            raise BadInput(f"run {run_id} has ended already ({ended.status if ended else 'deleted'}): "
                           "there is nothing to cancel")
        driver = self.driver
        if driver is not None:
            driver.stop_runs(canceled)
        from engine.events import Event

        self.services.events.publish(Event(kind="run_finished", run_id=run_id, ts=self.clock.now(),
                                           data={"status": "canceled", "error": error}))
        return canceled

    def restart(self, run_id: str, from_key: str, *, trigger: str = "restart",
                state: dict[str, Any] | None = None) -> str:
        """Record a new run of the same flow and args that starts again at `from_key`.

        The journal records of the steps that ran before `from_key` (in execution order,
        loop iterations included) are copied with their logs, so the new run replays
        them and runs `from_key` and everything after it afresh. Steps that enclose
        `from_key` (a loop, a branch) run again around the copied records. The new run
        is queued like any other (`submit`). `state` adds to the new run's state.
        Returns its id.

        Raises:
            NotFound: no run `run_id`, or `from_key` is not in its journal.
        """
        from engine.executor.restart import RestartPoint, unknown_step

        run = _run_again(self.store, run_id)
        if self.store.load_step(run_id, from_key) is None:
            raise unknown_step(from_key, [key for key, _ in self.store.step_keys(run_id, limit=21)])
        point = RestartPoint(from_key, run.flow)
        new_id = self.submit(run.flow, dict(run.args or {}), kind=run.kind, path=run.path, trigger=trigger,
                             workspace=run.workspace, scheduled_for=self.clock.now() + RESTART_HOLD_SECONDS,
                             state={**(state or {}), "restarted_from": run_id, "from_key": from_key})
        after = None
        while page := self.store.step_keys(run_id, after):  # a page at a time: a loop may have millions
            after = page[-1][0]
            self.store.copy_steps(run_id, new_id, [key for key, status in page if point.keeps(key, status)])
        self.store.update_run(new_id, scheduled_for=self.clock.now())
        return new_id


def _run_again(store: Any, run_id: str) -> Any:
    """The run whose flow and args a rerun or restart runs again."""
    run = store.get_run(run_id)
    if run is None:
        raise NotFound(f"run {run_id!r} not found")
    if run.flow is None:
        raise BadInput(f"run {run_id} has no flow to run again: it failed before it started")
    return run


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


def _schema_and_snapshot(flow: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """A flow's args schema and the snapshot its runs keep; made once per distinct flow
    given as a dict (runs queued one by one from the same flow: a page, a schedule)."""
    from engine.openflow import dump_value

    def make() -> tuple[dict[str, Any] | None, dict[str, Any]]:
        document = as_document(flow)
        value = dump_value(document.value)
        if document.dedicated_worker:
            value["dedicated_worker"] = True  # the run's snapshot is the value alone
        return document_schema(document), value

    return _SUBMITTED.get(flow, make) if isinstance(flow, dict) else make()


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
    # The schema field alone, as the whole document's dump would give it: dumping the
    # document for it cost as much as dumping the flow (1.6 ms for 40 steps, each submit).
    return document.model_dump(include={"schema_"}, exclude_unset=True, by_alias=True, mode="json").get("schema")
