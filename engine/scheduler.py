"""The Scheduler: turns due cron firings into queued runs, each exactly once.

A firing's run id is derived from the schedule and the firing time (`firing_id`), and
runs are inserted only if absent, so a firing submitted twice (after a crash before the
schedule's cursor moved, or by two schedulers on one database) is one run. Time comes
from the engine's clock; `tick()` does one pass, `serve()` ticks until cancelled.

Catch-up after downtime: a firing is on time while it is at most `grace` seconds old.
Older ("missed") firings are dropped under the "skip" policy; under "latest" the latest
missed firing runs once when no firing is on time.

A schedule's `on_failure` ("script/<path>" or "flow/<path>") runs once per failed run
(its id is the failed run's id plus "-onfail"), given the error and where it came from.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from engine.cron import Cron
from engine.errors import BadInput, MillraceError, NotFound, quote
from engine.item_paths import check_item_path

log = logging.getLogger("millrace.scheduler")

CATCH_UP_POLICIES = ("skip", "latest")
GRACE_SECONDS = 60.0
TRIGGER = "schedule"
FAILURE_TRIGGER = "schedule_failure"
HANDLER_ARGS = ("error", "path", "schedule_path", "job_id", "is_flow", "workspace_id", "started_at",
                "scheduled_for")


def firing_id(workspace: str, path: str, when: float) -> str:
    """The run id of one firing: readable time, hashed schedule (stable across processes)."""
    digest = hashlib.sha256(f"{workspace}\0{path}".encode()).hexdigest()[:12]
    stamp = dt.datetime.fromtimestamp(when, dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"sched-{digest}-{stamp}"


def parse_handler(on_failure: str | None) -> tuple[str, str] | None:
    """("script" | "flow", path) from "script/<path>" or "flow/<path>"; None when unset.

    Raises:
        BadInput: any other shape.
    """
    if not on_failure:
        return None
    kind, _, path = on_failure.partition("/")
    if kind not in ("script", "flow") or not path:
        raise BadInput(f"on_failure must look like 'script/<path>' or 'flow/<path>', not {quote(on_failure)}")
    return kind, check_item_path(path, f"on_failure {kind}")


@dataclass(frozen=True)
class Target:
    """What a run of a flow or script path is made of."""

    kind: str
    flow: dict[str, Any]
    args: dict[str, Any]


class Scheduler:
    """Submits due firings of the store's schedules as queued runs.

    Args:
        engine: the Engine whose store, clock and resolver are used.
        workspace: only this workspace's schedules; None for every workspace.
        grace: how old a firing may be and still count as on time (seconds).
    """

    def __init__(self, engine: Any, *, workspace: str | None = None, grace: float = GRACE_SECONDS):
        self.engine = engine
        self.workspace = workspace
        self.grace = grace
        self._reported: dict[tuple[str, str], str] = {}
        """The problem last logged per schedule (workspace, path), so it is logged once."""

    @property
    def store(self) -> Any:
        return self.engine.store

    def tick(self) -> list[str]:
        """Submit every due firing and failure handler; returns their run ids.

        A schedule whose expression cannot fire (stored before such expressions were
        refused) is marked with its error, said once in the log, and skipped from then
        on. Any other problem of a schedule is logged when it first appears, not at
        every tick.
        """
        now = self.engine.clock.now()
        ids: list[str] = []
        for schedule in self.store.list_schedules(workspace=self.workspace):
            if schedule.error or not self._can_fire(schedule):
                continue
            try:
                if schedule.enabled:
                    ids += self._fire(schedule, now)
                if schedule.on_failure:
                    ids += self._handle_failures(schedule)
            except MillraceError as exc:
                self._report(schedule, str(exc))
            else:
                self._reported.pop((schedule.workspace, schedule.path), None)
        return ids

    def _can_fire(self, schedule: Any) -> bool:
        try:
            Cron.parse(schedule.schedule, schedule.timezone)
        except BadInput as exc:
            if self.store.set_schedule_error(schedule.path, str(exc), workspace=schedule.workspace):
                log.warning("schedule %s is skipped until its expression is changed: %s", schedule.path, exc)
            return False
        return True

    def _report(self, schedule: Any, problem: str) -> None:
        key = (schedule.workspace, schedule.path)
        if self._reported.get(key) != problem:
            self._reported[key] = problem
            log.warning("schedule %s could not be served: %s", schedule.path, problem)

    async def serve(self, interval: float = 1.0, on_submit: Any = None) -> None:
        """Tick every `interval` seconds until cancelled; `on_submit(ids)` after a tick that submitted."""
        while True:
            try:
                ids = await asyncio.to_thread(self.tick)
            except Exception:  # e.g. the database went away: keep scheduling once it is back
                log.exception("scheduler tick failed")
                ids = []
            if ids and on_submit is not None:
                on_submit(ids)
            await self.engine.clock.sleep(interval)

    def due(self, schedule: Any, now: float) -> list[float]:
        """The firing times to run now, by the schedule's catch-up policy."""
        cron = Cron.parse(schedule.schedule, schedule.timezone)
        since = schedule.checked_until
        on_time = cron.between(max(since, now - self.grace), now)
        if on_time or schedule.catch_up != "latest":
            return on_time
        latest = cron.latest(now)
        return [latest] if latest > since else []

    def save(self, path: str, *, workspace: str = "main", **fields: Any) -> Any:
        """Check a schedule's fields and save it (created, or changed where given).

        Checks the cron expression and time zone, the catch-up policy, the on_failure
        shape, that the target flow or script (and the handler) exists, and the args
        against the target's schema.

        Raises:
            BadInput: what is wrong, in words (NotFound for a missing target).
        """
        old = self.store.get_schedule(path, workspace=workspace)
        merged = {**({} if old is None else dataclasses.asdict(old)), **fields}
        if not path or not merged.get("script_path"):
            raise BadInput("a schedule needs a path and the script_path of the flow or script it runs")
        if not merged.get("schedule"):
            raise BadInput("a schedule needs a cron expression ('schedule'), e.g. '0 2 * * *'")
        cron = Cron.parse(merged["schedule"], merged.get("timezone") or "UTC")
        fields["schedule"], fields["timezone"] = cron.expression, cron.timezone
        if merged.get("catch_up", "skip") not in CATCH_UP_POLICIES:
            raise BadInput(f"catch_up must be one of {', '.join(CATCH_UP_POLICIES)}, not {merged['catch_up']!r}")
        handler = parse_handler(merged.get("on_failure"))
        if handler is not None:
            self.target_schema(handler[1], handler[0] == "flow")
        self.target(merged["script_path"], bool(merged.get("is_flow", True)), dict(merged.get("args") or {}))
        return self.store.save_schedule(path, workspace=workspace, now=self.engine.clock.now(), **fields)

    def set_enabled(self, path: str, enabled: bool, *, workspace: str = "main") -> Any:
        """Enable or disable a schedule; a re-enabled one counts firings from now.

        Raises:
            NotFound: no schedule at `path`.
        """
        return self.store.set_schedule_enabled(path, enabled, workspace=workspace, now=self.engine.clock.now())

    def _fire(self, schedule: Any, now: float) -> list[str]:
        times = self.due(schedule, now)
        ids = [self._submit(schedule, when, now) for when in times]
        if Cron.parse(schedule.schedule, schedule.timezone).next(schedule.checked_until, 1)[0] <= now:
            # Something was due (run or skipped): nothing before now is due again.
            self.store.advance_schedule(schedule.path, workspace=schedule.workspace, checked_until=now)
        return ids

    def _submit(self, schedule: Any, when: float, now: float) -> str:
        run_id = firing_id(schedule.workspace, schedule.path, when)
        if self.store.get_run(run_id) is not None:
            return run_id
        common = dict(path=schedule.script_path, schedule_id=schedule.path, scheduled_for=when,
                      workspace=schedule.workspace)
        try:
            target = self.target(schedule.script_path, schedule.is_flow, dict(schedule.args or {}))
        except (BadInput, NotFound) as exc:
            # Recorded as a failed run (never queued), so the schedule's page and on_failure both see it.
            error = {"name": type(exc).__name__, "message": str(exc)}
            self.store.create_run(id=run_id, exist_ok=True, kind="flow" if schedule.is_flow else "script",
                                  args=dict(schedule.args or {}), status="failure", error=error, finished_at=now,
                                  trigger=TRIGGER, tag="flow", **common)
            return run_id
        return self.engine.submit(target.flow, target.args, kind=target.kind, run_id=run_id, exist_ok=True,
                                  trigger=TRIGGER, **common)

    def target(self, path: str, is_flow: bool, args: dict[str, Any]) -> Target:
        """The run of a flow or script path with `args`, checked against its schema.

        Raises:
            NotFound: nothing at `path`.
            ArgsValidationError: the args break its schema.
        """
        from engine.engine import document_schema
        from engine.openflow import dump_value, validate_args
        from engine.runners import script_schema

        resolver = self.engine.services.resolver
        if is_flow:
            document = resolver.flow(path)
            return Target("flow", dump_value(document.value), validate_args(document_schema(document), args))
        language, content = resolver.script(path)
        row = self.store.get_script(path)
        schema = row.args_schema if row is not None else script_schema(language, content)
        args = validate_args(schema or None, args)
        flow = script_flow_value(language, content, args, lock=resolver.script_lock(path), path=path,
                                 dedicated=resolver.script_dedicated(path))
        return Target("script", flow, args)

    def target_schema(self, path: str, is_flow: bool) -> dict[str, Any] | None:
        """The args schema of a flow or script path (None when it has none)."""
        from engine.engine import document_schema
        from engine.runners import script_schema

        resolver = self.engine.services.resolver
        if is_flow:
            return document_schema(resolver.flow(path))
        row = self.store.get_script(path)
        return row.args_schema if row is not None else script_schema(*resolver.script(path))

    def _handle_failures(self, schedule: Any) -> list[str]:
        handler = parse_handler(schedule.on_failure)
        failed = self.store.schedule_runs(schedule.path, workspace=schedule.workspace, status="failure",
                                          finished_after=schedule.failures_checked_until, limit=200)
        ids = [self._run_handler(schedule, handler, run) for run in reversed(failed)]
        if failed:
            self.store.advance_schedule(schedule.path, workspace=schedule.workspace,
                                        failures_checked_until=max(run.finished_at or 0 for run in failed))
        return ids

    def _run_handler(self, schedule: Any, handler: tuple[str, str], run: Any) -> str:
        kind, path = handler
        run_id = f"{run.id}-onfail"
        if self.store.get_run(run_id) is not None:
            return run_id
        given = {"error": run.error, "path": run.path, "schedule_path": schedule.path, "job_id": run.id,
                 "is_flow": schedule.is_flow, "workspace_id": schedule.workspace, "started_at": run.started_at,
                 "scheduled_for": run.scheduled_for}
        schema = self.target_schema(path, kind == "flow") or {}
        wanted = schema.get("properties") or {}
        target = self.target(path, kind == "flow", {k: v for k, v in given.items() if k in wanted})
        return self.engine.submit(target.flow, target.args, kind=target.kind, run_id=run_id, exist_ok=True,
                                  path=path, trigger=FAILURE_TRIGGER, schedule_id=schedule.path,
                                  workspace=schedule.workspace, state={"failed_run": run.id})


def script_flow_value(language: str, content: str, args: dict[str, Any], *, lock: str | None = None,
                      path: str | None = None, dedicated: bool = False) -> dict[str, Any]:
    """A one-step flow value that runs a script with the run's args, and with the lock of
    its dependencies and its workspace path (for its relative imports) when given; in
    dedicated mode when the script is marked `dedicated_worker`."""
    import json

    transforms = {name: {"type": "javascript", "expr": f"flow_input[{json.dumps(name)}]"} for name in args}
    step = {"type": "rawscript", "language": language, "content": content, "input_transforms": transforms}
    if lock:
        step["lock"] = lock
    if path:
        step["path"] = path
    value: dict[str, Any] = {"modules": [{"id": "main", "value": step}]}
    if dedicated:
        value["dedicated_worker"] = True
    return value
