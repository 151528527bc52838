"""For loops and while loops.

A loop's result is the array of its iterations' results in iterator order; a failed
iteration is kept as its `{"error": ...}` object. `stop_after_if` on the loop module is
checked after each iteration (result = that iteration's result) and breaks the loop;
`stop_after_all_iters_if` is checked once at the end (result = the array) and stops
the flow like a step's early stop.

Memory stays flat however many iterations run: an iteration's journal records are read
a page ahead and let go of when it ends (`engine.executor.iterations`), and a parallel
loop keeps only its running iterations in flight. What grows is the result array, once.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from engine.errors import ExpressionError
from engine.executor.context import Frame, RunContext
from engine.executor.iterations import IterationPages
from engine.executor.modules import run_sequence
from engine.executor.outcome import Outcome
from engine.executor.progress import LoopProgress
from engine.executor.scope import evaluate, evaluate_transform
from engine.executor.failures import failure
from engine.executor.step import stopped

ALL_AT_ONCE = 1000
"""How many iterations a parallel loop without `parallelism` runs at once: all of them,
up to this many (each running iteration holds memory and, for a script, a process)."""


async def run_loop(ctx: RunContext, frame: Frame, module: Any, key: str, previous: Any) -> Outcome:
    """Run a forloopflow or whileloopflow module."""
    value = module.value
    if value.type == "forloopflow":
        items = evaluate_transform(ctx, frame, value.iterator, previous, where=f"step {module.id}, iterator")
        if not isinstance(items, list):
            kind = type(items).__name__ if items is not None else "null"
            return Outcome.fail(failure(frame, module, "IteratorError",
                                        f"the iterator of loop {module.id} is not an array (got {kind})"))
        if _effective(value, "parallel", False):
            outcome = await _parallel(ctx, frame, module, key, items)
        else:
            skip = _effective(value, "skip_failures", True)
            outcome = await _in_order(ctx, frame, module, key, items, None, skip)
    else:
        outcome = await _in_order(ctx, frame, module, key, None, previous, _effective(value, "skip_failures", False))
    if outcome.failed:
        return outcome
    return _after_all(ctx, frame, module, outcome.result)


async def _in_order(ctx: RunContext, frame: Frame, module: Any, key: str, items: list[Any] | None,
                    previous: Any, skip_failures: bool) -> Outcome:
    """A sequential for loop over `items` (each iteration fed its item), or (items None) a
    while loop (each iteration fed the result of the last one that succeeded)."""
    results: list[Any] = []
    pages = IterationPages(ctx.journal, key, module.value.modules, in_order=True)
    progress = LoopProgress(ctx, key)
    try:
        for index in itertools.count() if items is None else range(len(items)):
            value = index if items is None else items[index]
            fed = previous if items is None else value
            outcome, child = await _iteration(ctx, frame, module, key, pages, index, value, fed)
            progress.add(outcome)
            if outcome.failed:
                results.append({"error": outcome.error})
                if not skip_failures:
                    return Outcome("failure", results, outcome.error)
                continue
            results.append(outcome.result)
            previous = outcome.result
            if outcome.stop or _breaks(ctx, child, module, outcome.result):
                break
    finally:
        pages.close()
    return Outcome.ok(results)


async def _iteration(ctx: RunContext, frame: Frame, module: Any, key: str, pages: IterationPages,
                     index: int, iter_value: Any, previous: Any) -> tuple[Outcome, Frame]:
    """Run (or replay) one iteration: its records are read before and let go after."""
    pages.enter(index)
    child = frame.child(prefix=f"{key}/{index}/", iteration=index, iter_value=iter_value)
    outcome = await run_sequence(ctx, child, module.value.modules, previous)
    pages.leave(index)
    return outcome, child


async def _parallel(ctx: RunContext, frame: Frame, module: Any, key: str, items: list[Any]) -> Outcome:
    from engine.executor import parts

    limit = _parallelism(ctx, frame, module, len(items))
    progress = LoopProgress(ctx, key)
    if items and parts.spreads(ctx, module.value.modules):
        outcomes = await parts.run_iterations(ctx, frame, module, key, items, limit)
        for outcome in outcomes:
            progress.add(outcome)
        return _gathered(module, outcomes)
    results, failed_at = await _pooled(ctx, frame, module, key, items, limit, progress)
    if failed_at and not _effective(module.value, "skip_failures", True):
        return Outcome("failure", results, results[min(failed_at)]["error"])
    return Outcome.ok(results)


async def _pooled(ctx: RunContext, frame: Frame, module: Any, key: str, items: list[Any], limit: int,
                  progress: LoopProgress) -> tuple[list[Any], list[int]]:
    """Run the iterations here, `limit` at a time; returns the results in iterator order
    and the indexes of the iterations that failed."""
    results: list[Any] = [None] * len(items)
    failed_at: list[int] = []
    raised: dict[int, Exception] = {}
    pages = IterationPages(ctx.journal, key, module.value.modules, in_order=False)
    queue = iter(enumerate(items))

    async def worker() -> None:
        # Each worker takes the next iteration when its own is done: at most `limit`
        # run at once, and only those are in memory.
        for index, item in queue:
            try:
                outcome, _ = await _iteration(ctx, frame, module, key, pages, index, item, item)
            except Exception as exc:  # a SuspendRun or an engine bug: raised once all are done
                raised[index] = exc
                continue
            progress.add(outcome)
            results[index] = {"error": outcome.error} if outcome.failed else outcome.result
            if outcome.failed:
                failed_at.append(index)

    try:
        await asyncio.gather(*(worker() for _ in range(min(limit, len(items)))))
    finally:
        pages.close()
    if raised:
        raise raised[min(raised)]
    return results, failed_at


def _gathered(module: Any, outcomes: list[Outcome]) -> Outcome:
    """A parallel loop's outcome from its iterations' outcomes (in iterator order)."""
    results = [{"error": o.error} if o.failed else o.result for o in outcomes]
    first_failure = next((o for o in outcomes if o.failed), None)
    if first_failure is not None and not _effective(module.value, "skip_failures", True):
        return Outcome("failure", results, first_failure.error)
    return Outcome.ok(results)


def _breaks(ctx: RunContext, child: Frame, module: Any, result: Any) -> bool:
    stop = getattr(module, "stop_after_if", None)
    if stop is None or not getattr(stop, "expr", None):
        return False
    try:
        return bool(evaluate(ctx, child, stop.expr, None, result=result,
                             where=f"step {module.id}, stop_after_if"))
    except ExpressionError:
        return True


def _after_all(ctx: RunContext, frame: Frame, module: Any, results: list[Any]) -> Outcome:
    stop = getattr(module, "stop_after_all_iters_if", None)
    if stop is None or not getattr(stop, "expr", None):
        return Outcome.ok(results)
    try:
        fired = evaluate(ctx, frame, stop.expr, None, result=results,
                         where=f"step {module.id}, stop_after_all_iters_if")
    except ExpressionError as exc:
        return Outcome.fail(failure(frame, module, "ExpressionError", str(exc)))
    return stopped(frame, module, stop, results) if fired else Outcome.ok(results)


def _parallelism(ctx: RunContext, frame: Frame, module: Any, count: int) -> int:
    value = getattr(module.value, "parallelism", None)
    if value is not None and not isinstance(value, int):
        value = evaluate_transform(ctx, frame, value, None, where=f"step {module.id}, parallelism")
    if not value or int(value) <= 0:
        return max(min(count, ALL_AT_ONCE), 1)
    return int(value)


def _effective(value: Any, name: str, default: bool) -> bool:
    effective = getattr(value, f"effective_{name}", None)
    if effective is not None:
        return bool(effective)
    raw = getattr(value, name, None)
    return default if raw is None else bool(raw)
