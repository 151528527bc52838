"""Steps that lose their worker: count it, and fail the step once it happened too often.

A worker that dies or hangs (killed, out of memory, stopped) while a step runs stops
heartbeating; another worker finds it stale, marks it "lost" in the store and takes
its runs over (engine/worker.py). Every attempt of a step records on the step's
journal record which worker runs it (`data.held_by`, saved with the record the
attempt saves anyway). When the taker replays a step whose record is still running
and whose holder was lost, that step was in flight when its worker was lost:
`data.worker_losses` goes up by one. A step lost `max_losses` times (WorkerRole; 3 by
default, MILLRACE_MAX_WORKER_LOSSES) fails with WorkerLost instead of running again,
so a step that kills or hangs its worker is not run again after every restart. Until
then it runs alone on its worker (solo.py), so that the steps of other runs beside
it are not blamed for what it does.

Only the innermost step counts: a loop or branch whose inner step was in flight on
the same worker leaves the count to that step. A worker that handed its runs back
(SIGTERM, the database away) was not lost, so nothing counts then. The failure is not
retried (retrying would run the step that loses workers again); the flow's
`continue_on_error` and failure module apply as for any failure.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from engine.errors import BadInput, StepFailure, quote
from engine.executor.context import RunContext
from engine.executor.journal import Record

DEFAULT_MAX_LOSSES = 3
ENV = "MILLRACE_MAX_WORKER_LOSSES"
HELD_BY = "held_by"
LOSSES = "worker_losses"
ERROR_NAME = "WorkerLost"
_LOOPS = ("forloopflow", "whileloopflow")
_CONTAINERS = (*_LOOPS, "branchone", "branchall", "flow")


def max_losses_from_env() -> int:
    """MILLRACE_MAX_WORKER_LOSSES, or 3 when unset.

    Raises:
        BadInput: it is not a whole number of at least 1.
    """
    text = os.environ.get(ENV, "").strip()
    if not text:
        return DEFAULT_MAX_LOSSES
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise BadInput(f"{ENV} must be a whole number of at least 1, not {quote(text)}")
    return value


def take_over(ctx: RunContext, key: str, record: Record, module: Any = None) -> dict[str, Any] | None:
    """Before a step's attempt: count a lost worker that was running it, and give the
    WorkerLost error when that happened `max_losses` times.

    Args:
        ctx: the run's context (its services tell which worker this is).
        key: the step's journal key.
        record: its journal record, changed in place: the count, and no holder any
            more (`turn` names this worker once the step runs; the caller saves it).
        module: the step's module, to tell whether an inner step was in flight
            instead; None for a step run on its own (a part).

    Returns:
        The error object to fail the step with, or None to run it.
    """
    role = ctx.services.worker
    if role is None:
        return None
    holder = record.data.pop(HELD_BY, None)
    if (record.status == "running" and holder not in (None, role.worker_id) and _was_lost(ctx, holder)
            and not _inner_in_flight(ctx, key, module, holder)):
        record.data[LOSSES] = _losses(record) + 1
    if _losses(record) < role.max_losses:
        return None
    message = f"worker lost {_losses(record)} times while running step {record.step_id}"
    return StepFailure(ERROR_NAME, message, step_id=record.step_id, iteration=record.iteration).to_dict()


@contextlib.asynccontextmanager
async def turn(ctx: RunContext, key: str, record: Record | None, module: Any = None) -> AsyncIterator[None]:
    """Wait for the step's turn on this worker (engine/executor/solo.py), then name
    this worker as the one running it on its record (which the caller saves).

    A suspect (a step whose worker was lost before) runs alone; other script steps
    wait while a suspect runs. Before it waits, a suspect's record is saved without a
    holder: it is not in flight, and a loss meanwhile is not its own.
    """
    role = ctx.services.worker
    solo = getattr(role, "solo", None)
    if solo is None:
        yield
        return
    tree = getattr(ctx.run, "root_run_id", None) or ctx.run_id
    takes_turns = module is None or module.value.type not in _CONTAINERS
    if (record is None or not _losses(record)) and takes_turns:
        await solo.start_step(tree)  # the common case (every step), without nested managers
        try:
            if record is not None:
                record.data[HELD_BY] = role.worker_id
            yield
        finally:
            solo.end_step(tree)
        return
    async with contextlib.AsyncExitStack() as stack:
        if record is not None and _losses(record):
            ctx.journal.save(key, record)
            await stack.enter_async_context(solo.alone(tree))
        if takes_turns:
            await stack.enter_async_context(solo.step(tree))
        if record is not None:
            record.data[HELD_BY] = role.worker_id
        yield


def _losses(record: Record) -> int:
    return int(record.data.get(LOSSES) or 0)


def _was_lost(ctx: RunContext, worker_id: str) -> bool:
    """Whether the store marked the worker lost (looked up once per run context)."""
    lost = ctx.lost_workers.get(worker_id)
    if lost is None:
        worker = ctx.services.store.get_worker(worker_id)
        lost = ctx.lost_workers[worker_id] = worker is not None and worker.status == "lost"
    return lost


def _inner_in_flight(ctx: RunContext, key: str, module: Any, holder: str) -> bool:
    """Whether a step inside this loop or branch was also running on that worker."""
    if module is None:
        return False
    prefix = key[: len(key) - len(module.id)]
    # A loop's iterations are not all in memory (the journal reads them a page at a
    # time): ask the store what is still running below this step.
    running = {other: row.data or {} for other, row in ctx.services.store.running_steps(ctx.run_id, prefix).items()}
    running.update((other, record.data) for other, record in ctx.journal.records.items() if record.status == "running")
    return any(other != key and data.get(HELD_BY) == holder and _inside(module, prefix, other)
               for other, data in running.items())


def _inside(module: Any, prefix: str, key: str) -> bool:
    """Whether the journal key is a step inside the module (at `prefix`): in a loop's
    iterations (`loop/3/...`) or in a branch, whose steps sit at the branch's level."""
    from engine.openflow.walk import child_modules

    if module.value.type in _LOOPS:
        return key.startswith(f"{prefix}{module.id}/")
    return any(key == prefix + child.id or _inside(child, prefix, key) for _, child in child_modules(module, ""))
