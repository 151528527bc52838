"""Running a whole flow for a run record: skip_expr, preprocessor, the modules,
the failure module, and the run's final status in the store."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from engine.errors import ExpressionError, StepFailure
from engine.executor.context import Frame, RunContext, Services
from engine.executor.modules import run_sequence
from engine.executor.outcome import Outcome, SuspendRun
from engine.executor.scope import evaluate
from engine.executor.snapshots import SnapshotCache
from engine.executor.step import run_step


@dataclass
class RunResult:
    """How a run ended (or that it waits): status is success, failure or suspended."""

    run_id: str
    status: str
    result: Any = None
    error: dict[str, Any] | None = None


FINISHED = ("success", "failure", "canceled")
_PARSED = SnapshotCache()
"""Runs' flow snapshots as models (runs of one flow share them)."""


async def continue_run(services: Services, run: Any) -> RunResult:
    """Continue a run that this process's queue driver holds, from its journal.

    Finished steps are replayed, never run again; a part runs its one piece. This is
    what the driver (engine/worker.py) does with every run it claims.
    """
    from engine.openflow import flow_from_data

    if run.status in FINISHED:
        return RunResult(run.id, run.status, run.result, run.error)
    if run.kind == "part":
        from engine.executor.parts import execute_part

        return await execute_part(services, run)
    flow = _PARSED.get(run.flow, lambda: flow_from_data({"value": run.flow}, source=f"run {run.id}").value)
    return await execute(services, run, flow)


async def execute(services: Services, run: Any, flow: Any, *, depth: int = 0) -> RunResult:
    """Run (or continue, replaying its journal) the flow of a run record to its end."""
    ctx = RunContext(services, run, flow, depth=depth)
    if run.status != "running" or run.started_at is None:  # a claimed run already says so
        services.store.update_run(run.id, status="running", started_at=run.started_at or services.clock.now())
    ctx.emit("run_started", data={"path": run.path, "args": run.args})
    try:
        outcome, state = await _run_flow(ctx, dict(run.args or {}))
    except SuspendRun as waiting:
        services.store.update_run(run.id, status="suspended", scheduled_for=waiting.deadline)
        return RunResult(run.id, "suspended")
    status = "failure" if outcome.failed else "success"
    services.store.finish_run(run.id, status, outcome.result, outcome.error, services.clock.now(), returning=False)
    if state:
        services.store.update_run(run.id, state={**(run.state or {}), **state})
    ctx.emit("run_finished", data={"status": status, "result": outcome.result, "error": outcome.error})
    return RunResult(run.id, status, outcome.result, outcome.error)


async def _run_flow(ctx: RunContext, args: dict[str, Any]) -> tuple[Outcome, dict[str, Any]]:
    flow = ctx.flow
    frame = Frame(flow_input=args)
    if getattr(flow, "skip_expr", None):
        try:
            if evaluate(ctx, frame, flow.skip_expr, args, where="flow skip_expr"):
                return Outcome.ok(None), {"skipped": True}
        except ExpressionError as exc:
            return Outcome.fail(StepFailure("ExpressionError", str(exc)).to_dict()), {}
    pre = getattr(flow, "preprocessor_module", None)
    if pre is not None and (ctx.run.trigger or "") == "webhook":
        done = await run_step(ctx, frame, pre, args)
        if done.failed:
            return done, {}
        if isinstance(done.result, dict):
            frame.flow_input = args = done.result
    outcome = await run_sequence(ctx, frame, flow.modules or [], args)
    if outcome.failed and getattr(flow, "failure_module", None) is not None:
        outcome = await _handle_failure(ctx, frame, flow.failure_module, outcome)
    return outcome, {}


async def _handle_failure(ctx: RunContext, frame: Frame, handler: Any, failed: Outcome) -> Outcome:
    """Run the failure module; the flow stays failed unless it returns recover: true."""
    handled = await run_step(ctx, frame, handler, {"error": failed.error})
    if handled.failed:
        return failed
    result = handled.result
    if isinstance(result, dict) and result.get("recover") is True:
        return Outcome.ok(result)
    return Outcome("failure", result, failed.error)


async def run_child_flow(ctx: RunContext, document: Any, args: dict[str, Any], *, key: str, path: str) -> RunResult:
    """A `flow` module: the subflow is a run of its own, found again on replay."""
    from engine.engine import document_schema
    from engine.openflow import validate_args

    store = ctx.services.store
    child_id = hashlib.sha256(f"{ctx.run_id}/{key}".encode()).hexdigest()[:32]
    run = store.get_run(child_id)
    if run is None:
        args = validate_args(document_schema(document), args)
        run = store.create_run(
            id=child_id, kind="flow", path=path, args=args, flow=_dump(document.value),
            status="running", trigger="subflow", parent_run_id=ctx.run_id,
            root_run_id=getattr(ctx.run, "root_run_id", None) or ctx.run_id,
        )
    elif run.status in ("success", "failure"):
        return RunResult(run.id, run.status, run.result, run.error)
    return await execute(ctx.services, run, document.value, depth=ctx.depth + 1)


def _dump(value: Any) -> Any:
    from engine.openflow import dump_value

    return dump_value(value)
