"""For loops and while loops.

A loop's result is the array of its iterations' results in iterator order; a failed
iteration is kept as its `{"error": ...}` object. `stop_after_if` on the loop module is
checked after each iteration (result = that iteration's result) and breaks the loop;
`stop_after_all_iters_if` is checked once at the end (result = the array) and stops
the flow like a step's early stop.
"""

from __future__ import annotations

import asyncio
from typing import Any

from engine.errors import ExpressionError
from engine.executor.context import Frame, RunContext
from engine.executor.modules import run_sequence
from engine.executor.outcome import Outcome, SuspendRun
from engine.executor.scope import evaluate, evaluate_transform
from engine.executor.failures import failure
from engine.executor.step import stopped


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
            outcome = await _sequential(ctx, frame, module, key, items)
    else:
        outcome = await _while(ctx, frame, module, key, previous)
    if outcome.failed:
        return outcome
    return _after_all(ctx, frame, module, outcome.result)


async def _sequential(ctx: RunContext, frame: Frame, module: Any, key: str, items: list[Any]) -> Outcome:
    results: list[Any] = []
    skip_failures = _effective(module.value, "skip_failures", True)
    for index, item in enumerate(items):
        child = frame.child(prefix=f"{key}/{index}/", iteration=index, iter_value=item)
        outcome = await run_sequence(ctx, child, module.value.modules, item)
        if outcome.failed:
            results.append({"error": outcome.error})
            if not skip_failures:
                return Outcome("failure", results, outcome.error)
            continue
        results.append(outcome.result)
        if outcome.stop or _breaks(ctx, child, module, outcome.result):
            break
    return Outcome.ok(results)


async def _parallel(ctx: RunContext, frame: Frame, module: Any, key: str, items: list[Any]) -> Outcome:
    from engine.executor import parts

    limit = _parallelism(ctx, frame, module, len(items))
    if items and parts.spreads(ctx, module.value.modules):
        return _gathered(module, await parts.run_iterations(ctx, frame, module, key, items, limit))
    gate = asyncio.Semaphore(limit)

    async def iteration(index: int, item: Any) -> Outcome:
        async with gate:
            child = frame.child(prefix=f"{key}/{index}/", iteration=index, iter_value=item)
            return await run_sequence(ctx, child, module.value.modules, item)

    outcomes = await asyncio.gather(*(iteration(i, item) for i, item in enumerate(items)), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, SuspendRun):
            raise outcome
        if isinstance(outcome, BaseException):
            raise outcome
    return _gathered(module, outcomes)


def _gathered(module: Any, outcomes: list[Outcome]) -> Outcome:
    """A parallel loop's outcome from its iterations' outcomes (in iterator order)."""
    results = [{"error": o.error} if o.failed else o.result for o in outcomes]
    first_failure = next((o for o in outcomes if o.failed), None)
    if first_failure is not None and not _effective(module.value, "skip_failures", True):
        return Outcome("failure", results, first_failure.error)
    return Outcome.ok(results)


async def _while(ctx: RunContext, frame: Frame, module: Any, key: str, previous: Any) -> Outcome:
    results: list[Any] = []
    skip_failures = _effective(module.value, "skip_failures", False)
    index = 0
    while True:
        child = frame.child(prefix=f"{key}/{index}/", iteration=index, iter_value=index)
        outcome = await run_sequence(ctx, child, module.value.modules, previous)
        if outcome.failed:
            results.append({"error": outcome.error})
            if not skip_failures:
                return Outcome("failure", results, outcome.error)
        else:
            results.append(outcome.result)
            previous = outcome.result
            if outcome.stop or _breaks(ctx, child, module, outcome.result):
                return Outcome.ok(results)
        index += 1


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
        return max(count, 1)
    return int(value)


def _effective(value: Any, name: str, default: bool) -> bool:
    effective = getattr(value, f"effective_{name}", None)
    if effective is not None:
        return bool(effective)
    raw = getattr(value, name, None)
    return default if raw is None else bool(raw)
