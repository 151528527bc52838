"""Parts: pieces of a flow run that any worker of the queue may take.

When a flow runs in a queue of workers (`python -m engine worker`), the worker that
holds the run gives away, as runs of kind "part":

- each iteration of a parallel for-loop and each branch of a parallel branchall (tag
  "flow"), so they spread over the workers, at most `parallelism` unfinished at once;
- each step whose tag (its language, or the module's own `tag`) this worker does not
  take, so `--tags bash` workers run the bash steps (Windmill's worker groups).

A part writes its steps into the parent run's journal and logs and publishes its events
under the parent's run id, so the run page and the journal read the same as when the
whole flow ran in one process. Its own row only carries the outcome back. The parent
waits for its parts, and meanwhile takes its own queued parts one at a time (when
their tag is one it takes), so a flow never waits for ever on a busy queue.

A part's id is derived from the parent, the position and the attempt of the step that
made it, so a parent taken over by another worker finds its parts again rather than
making new ones; a part taken over after its worker died replays its journal records.

Not spread (run where the flow runs, as before): bodies with a step that waits for
approval or a subflow, and every step of a `same_worker` flow.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from engine.executor.context import Frame, RunContext
from engine.executor.outcome import Outcome, SuspendRun
from engine.executor.solo import Solo

PART = "part"
FLOW_TAG = "flow"
TAG_ALIASES = {"python": "python3", "py": "python3", "sh": "bash"}
_FINISHED = ("success", "failure", "canceled")
_POLL_MIN, _POLL_MAX = 0.01, 0.2


@dataclass
class WorkerRole:
    """How this process takes part in a queue of workers.

    Args:
        worker_id: the worker's id in the store (it holds the parts it claims).
        tags: the run tags it takes; None takes every tag (runs every step here).
        spread: give parallel iterations and branches to the queue.
        wake: tells the local queue worker that runs were queued.
        help: claims a queued part of the given run and starts it in this worker
            (the task running it), or returns None when there is none to take.
        max_losses: how many times a worker may be lost while running one step
            before the step fails (engine/executor/losses.py).
        solo: the turns of this worker's steps, so that a suspect runs alone
            (engine/executor/solo.py); None: no turns are taken.
    """

    worker_id: str
    tags: frozenset[str] | None = None
    spread: bool = True
    wake: Callable[[], None] | None = None
    help: Callable[[str], "asyncio.Task[Any] | None"] | None = None
    max_losses: int = 3
    solo: Solo | None = None

    def takes(self, tag: str) -> bool:
        return self.tags is None or tag in self.tags


def normalize_tags(tags: Iterable[str] | None) -> list[str] | None:
    """Worker tags as runs carry them: trimmed, aliases resolved ("python" is "python3")."""
    if tags is None:
        return None
    cleaned = [TAG_ALIASES.get(t.strip(), t.strip()) for t in tags if t.strip()]
    return list(dict.fromkeys(cleaned))


def step_tag(value: Any, language: str) -> str:
    """Which workers may run a script step: its own `tag`, else its language."""
    return getattr(value, "tag", None) or language


def spreads(ctx: RunContext, modules: list[Any]) -> bool:
    """Whether a loop's iterations or a branchall's branches go to the queue."""
    role = ctx.services.worker
    if role is None or not role.spread or getattr(ctx.flow, "same_worker", False):
        return False
    return all(_portable(module) for module in modules)


def dispatches_step(ctx: RunContext, tag: str) -> bool:
    """Whether a script step with this tag must run on another worker."""
    role = ctx.services.worker
    return role is not None and not role.takes(tag) and not getattr(ctx.flow, "same_worker", False)


def _portable(module: Any) -> bool:
    from engine.executor.suspend import wants_suspend
    from engine.openflow.walk import child_modules

    if wants_suspend(module) or module.value.type == "flow":
        return False
    return all(_portable(child) for _, child in child_modules(module, ""))


# --- the parent's side ------------------------------------------------------------------


@dataclass
class PartSpec:
    """One part to give away: its id, tag and target (what it runs)."""

    id: str
    tag: str
    target: dict[str, Any]


def part_id(ctx: RunContext, key: str, kind: str, index: int) -> str:
    record = ctx.journal.get(key)
    attempt = record.attempts if record is not None else 0
    return hashlib.sha256(f"{ctx.run_id}/{key}/{attempt}/{kind}/{index}".encode()).hexdigest()[:32]


def save_snapshot(ctx: RunContext, frame: Frame, key: str, previous: Any) -> None:
    """Keep, on the loop's or branchall's record, what its parts need to evaluate
    expressions as the parent would: the frames around it and the latest results."""
    record = ctx.journal.get(key)
    if record is None or "spread" in record.data:
        return
    frames, at = [], frame
    while at is not None:
        frames.append({"flow_input": at.flow_input, "prefix": at.prefix, "iteration": at.iteration,
                       "results": at.results, "extra": at.extra})
        at = at.parent
    record.data["spread"] = {"frames": frames, "latest": ctx.latest, "previous": previous}
    ctx.journal.save(key, record)


def drop_snapshot(ctx: RunContext, key: str) -> None:
    """The parts are done: the record need not carry the snapshot any more (it is saved
    without it when the step finishes)."""
    record = ctx.journal.get(key)
    if record is not None:
        record.data.pop("spread", None)


async def run_parts(ctx: RunContext, specs: list[PartSpec], limit: int) -> list[tuple[Outcome, dict | None]]:
    """Give the parts to the queue, `limit` unfinished at once, and wait for them all.

    Returns each part's outcome (and, for a branch, the results of its top-level
    steps), in the order of `specs`.
    """
    services, role = ctx.services, ctx.services.worker
    store = services.store
    done: dict[int, tuple[Outcome, dict | None]] = {}
    open_parts: dict[str, int] = {}
    position = {spec.id: i for i, spec in enumerate(specs)}
    for run in store.get_runs(position):
        index = position[run.id]
        if run.status in _FINISHED:
            done[index] = outcome_of(run)
        else:
            open_parts[run.id] = index
    waiting = [i for i in range(len(specs)) if i not in done and specs[i].id not in open_parts]
    # A part this worker took (see WorkerRole.help): it belongs to the worker, which
    # heartbeats it and hands it back if it stops, so it is not this function's to cancel.
    helper: asyncio.Task[Any] | None = None
    poll = _POLL_MIN
    while len(done) < len(specs):
        queued = False
        while waiting and len(open_parts) < max(limit, 1):
            index = waiting.pop(0)
            _create(ctx, specs[index])
            open_parts[specs[index].id] = index
            queued = True
        if queued and role.wake is not None:
            role.wake()
        if (helper is None or helper.done()) and role.help is not None:
            helper = role.help(ctx.run_id)
        finished = store.get_runs(list(open_parts), finished=True) if open_parts else []
        for run in finished:
            done[open_parts.pop(run.id)] = outcome_of(run)
        if finished:
            poll = _POLL_MIN
            continue
        if helper is not None and not helper.done():
            await asyncio.wait({helper}, timeout=poll)
        else:
            await asyncio.sleep(poll)
        poll = min(poll * 2, _POLL_MAX)
    return [done[i] for i in range(len(specs))]


async def run_step_part(ctx: RunContext, key: str, step_id: str, iteration: int | None,
                        job: dict[str, Any], tag: str) -> Outcome:
    """Run one script step on a worker that takes its tag, and wait for its outcome."""
    target = {"type": "script", "key": key, "step_id": step_id, "iteration": iteration, "job": job}
    [(outcome, _)] = await run_parts(ctx, [PartSpec(part_id(ctx, key, "step", 0), tag, target)], 1)
    return outcome


async def run_iterations(ctx: RunContext, frame: Frame, module: Any, key: str, items: list[Any],
                         limit: int) -> list[Outcome]:
    """The iterations of a parallel for-loop, each a part."""
    save_snapshot(ctx, frame, key, None)
    specs = [PartSpec(part_id(ctx, key, "iteration", i), FLOW_TAG,
                      {"type": "iteration", "key": key, "module_id": module.id, "index": i, "item": item})
             for i, item in enumerate(items)]
    try:
        return [outcome for outcome, _ in await run_parts(ctx, specs, limit)]
    finally:
        drop_snapshot(ctx, key)


async def run_branches(ctx: RunContext, frame: Frame, module: Any, key: str, previous: Any) -> list[Outcome]:
    """The branches of a parallel branchall, each a part; their steps' results are
    remembered in `frame` as if they had run here."""
    save_snapshot(ctx, frame, key, previous)
    branches = module.value.branches or []
    specs = [PartSpec(part_id(ctx, key, "branch", b), FLOW_TAG,
                      {"type": "branch", "key": key, "module_id": module.id, "index": b})
             for b in range(len(branches))]
    try:
        done = await run_parts(ctx, specs, len(specs))
    finally:
        drop_snapshot(ctx, key)
    for _, results in done:
        for step_id, result in (results or {}).items():
            ctx.remember(frame, step_id, result)
    return [outcome for outcome, _ in done]


def _create(ctx: RunContext, spec: PartSpec) -> None:
    run = ctx.run
    ctx.services.store.create_run(
        id=spec.id, kind=PART, path=run.path, args={}, flow=None, status="queued", trigger=PART,
        tag=spec.tag, workspace=run.workspace, parent_run_id=ctx.run_id,
        root_run_id=getattr(run, "root_run_id", None) or ctx.run_id,
        scheduled_for=ctx.services.clock.now(), state={"target": spec.target}, exist_ok=True,
    )


def outcome_of(run: Any) -> tuple[Outcome, dict | None]:
    """What a finished part run brought back."""
    data = run.result if isinstance(run.result, dict) else None
    if run.status == "success" and data is not None and "status" in data:
        outcome = Outcome(data["status"], data.get("result"), data.get("error"), bool(data.get("stop")))
        return outcome, data.get("results")
    error = run.error or {"name": "PartError", "message": f"part {run.id} ended {run.status}", "stack": ""}
    return Outcome.fail(dict(error)), None


# --- the part's side ----------------------------------------------------------------------


async def execute_part(services: Any, part: Any) -> Any:
    """Run one part (claimed by this process) and record its outcome on its row."""
    from engine.executor.flow import RunResult

    store = services.store
    parent = store.get_run(part.parent_run_id)
    if parent is None or parent.status in _FINISHED:
        store.finish_run(part.id, "canceled", error={"name": "Canceled", "message": "its run has ended",
                                                      "stack": ""})
        return RunResult(part.id, "canceled")
    target = (part.state or {}).get("target") or {}
    try:
        outcome, results = await _run_target(services, parent, target)
    except SuspendRun:  # not spread (see `spreads`); reached only through a script-path subflow
        error = {"name": "PartError", "message": "a step waiting for approval cannot run in a part", "stack": ""}
        store.finish_run(part.id, "failure", error=error, finished_at=services.clock.now())
        return RunResult(part.id, "failure", None, error)
    # Other errors (an engine bug, the database away) are the queue worker's to record.
    value = {"status": outcome.status, "result": outcome.result, "error": outcome.error,
             "stop": outcome.stop, "results": results}
    store.finish_run(part.id, "success", value, finished_at=services.clock.now())
    return RunResult(part.id, "success", value)


async def _run_target(services: Any, parent: Any, target: dict[str, Any]) -> tuple[Outcome, dict | None]:
    from engine.executor.modules import run_sequence

    kind, key = target.get("type"), target["key"]
    flow = _flow_value(parent)
    if kind == "script":
        ctx = RunContext(services, parent, flow, level=[])
        ctx.journal.load_keys([key])  # the step's own record, and no other
        return await _run_step_here(ctx, key, target), None
    module = _find(flow, target["module_id"])
    record = services.store.load_step(parent.id, key)
    snapshot = (record.data or {}).get("spread") if record is not None else None
    if module is None or snapshot is None:
        raise LookupError(f"part target {key!r} is not in run {parent.id}'s flow or journal")
    index = int(target["index"])
    if kind == "iteration":
        prefix = f"{key}/{index}/"
        ctx = RunContext(services, parent, flow, journal_prefix=prefix, level=module.value.modules)
        ctx.latest = dict(snapshot["latest"])
        frame = _frame(snapshot).child(prefix=prefix, iteration=index, iter_value=target.get("item"))
        return await run_sequence(ctx, frame, module.value.modules, target.get("item")), None
    frame = _frame(snapshot)
    modules = module.value.branches[index].modules or []
    ctx = RunContext(services, parent, flow, journal_prefix=frame.prefix, level=modules)
    ctx.latest = dict(snapshot["latest"])
    outcome = await run_sequence(ctx, frame, modules, snapshot.get("previous"))
    return outcome, {m.id: frame.results[m.id] for m in modules if m.id in frame.results}


async def _run_step_here(ctx: RunContext, key: str, target: dict[str, Any]) -> Outcome:
    """Run a script step given away as a part. Its record (saved by the flow's worker)
    now names this worker, counting a lost worker that ran it before (losses.py)."""
    from engine.executor import losses
    from engine.executor.modules import run_script_job

    record = ctx.journal.get(key)
    lost = None if record is None else losses.take_over(ctx, key, record)
    if lost is not None:
        ctx.journal.save(key, record)
        return Outcome.fail(lost)
    async with losses.turn(ctx, key, record):
        if record is not None:
            ctx.journal.save(key, record)
        return await run_script_job(ctx, key, target["step_id"], target.get("iteration"), dict(target["job"]))


def _frame(snapshot: dict[str, Any]) -> Frame:
    frame: Frame | None = None
    for data in reversed(snapshot["frames"]):
        frame = Frame(flow_input=data["flow_input"], prefix=data.get("prefix") or "",
                      iteration=data.get("iteration"), parent=frame, results=dict(data.get("results") or {}),
                      extra=dict(data.get("extra") or {}))
    assert frame is not None
    return frame


_FLOWS: dict[str, Any] = {}


def _flow_value(run: Any) -> Any:
    """The parsed flow of a run, kept per run id (a run's flow never changes)."""
    from engine.openflow import flow_from_data

    flow = _FLOWS.get(run.id)
    if flow is None:
        if len(_FLOWS) > 256:
            _FLOWS.clear()
        flow = _FLOWS[run.id] = flow_from_data({"value": run.flow}, source=f"run {run.id}").value
    return flow


def _find(flow: Any, module_id: str) -> Any:
    from engine.openflow.walk import child_modules

    stack = list(flow.modules or [])
    while stack:
        module = stack.pop()
        if module.id == module_id:
            return module
        stack.extend(child for _, child in child_modules(module, ""))
    return None
