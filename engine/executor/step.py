"""One module, with every per-step option: skip_if, mock, retry, timeout,
continue_on_error, stop_after_if, suspend and sleep.

Order, as Windmill applies it: skip_if before running; mock instead of running; the
module with its retries (each attempt under the step timeout); then, on success,
stop_after_if, suspend, and sleep.
"""

from __future__ import annotations

import asyncio
from typing import Any

from engine.errors import ExpressionError
from engine.executor import losses, suspend as suspension
from engine.executor.context import Frame, RunContext
from engine.executor.failures import failure
from engine.executor.journal import Record
from engine.executor.outcome import Outcome
from engine.executor.scope import evaluate, evaluate_transform


async def run_step(ctx: RunContext, frame: Frame, module: Any, previous: Any) -> Outcome:
    """Run (or replay from the journal) one module and return what it produced."""
    key = frame.prefix + module.id
    record = ctx.journal.get(key)
    if record is not None and record.done:
        return await _replay(ctx, frame, module, key, record)
    record = record or Record(step_id=module.id, iteration=frame.iteration)
    skip = _skip_if(ctx, frame, module, previous)
    if isinstance(skip, Outcome):
        return _finish(ctx, frame, module, key, record, skip)
    if skip:
        outcome = Outcome("skipped", previous)
        return _finish(ctx, frame, module, key, record, outcome)
    instant = _instant(module, previous)
    if instant is not None:
        outcome = instant
    else:
        outcome = await _run_with_retries(ctx, frame, module, key, record, previous)
    if outcome.failed and getattr(module, "continue_on_error", False):
        error_result = {"error": outcome.error}
        _finish(ctx, frame, module, key, record, Outcome("failure", error_result, outcome.error))
        return Outcome.ok(error_result)
    if outcome.status == "success":
        outcome = _early_stop(ctx, frame, module, outcome)
    return await _after(ctx, frame, module, key, _finish(ctx, frame, module, key, record, outcome))


def _instant(module: Any, previous: Any) -> Outcome | None:
    """The outcome of a step the engine knows without running anything (a mock, an
    identity), or None. Such a step cannot fail, hang or take its worker down, so it
    is journaled once, finished: no "running" record, no turn on the worker."""
    mock = getattr(module, "mock", None)
    if mock is not None and getattr(mock, "enabled", False):
        return Outcome.ok(getattr(mock, "return_value", None))
    if module.value.type == "identity":
        return Outcome.ok(previous)
    return None


async def _replay(ctx: RunContext, frame: Frame, module: Any, key: str, record: Record) -> Outcome:
    """A finished step: give back what it produced without running it again."""
    outcome = Outcome(record.status, record.result, record.error, bool(record.data.get("stop")))
    ctx.remember(frame, module.id, outcome.result)
    if record.status == "failure" and getattr(module, "continue_on_error", False):
        return Outcome.ok(record.result)
    return await _after(ctx, frame, module, key, outcome)


async def _after(ctx: RunContext, frame: Frame, module: Any, key: str, outcome: Outcome) -> Outcome:
    """Suspend and sleep, which follow a successful step (also when replayed)."""
    if outcome.status != "success" or outcome.stop:
        return outcome
    if suspension.wants_suspend(module):
        outcome = await suspension.wait(ctx, frame, module, key, outcome)
        if outcome.failed:
            return outcome
    await _sleep_after(ctx, frame, module, key)
    return outcome


def _finish(ctx: RunContext, frame: Frame, module: Any, key: str, record: Record, outcome: Outcome) -> Outcome:
    now = ctx.clock.now()
    record.status, record.result, record.error = outcome.status, outcome.result, outcome.error
    record.started_at = record.started_at or now
    record.finished_at = now
    if outcome.stop:
        record.data["stop"] = True
    ctx.journal.save(key, record)
    ctx.remember(frame, module.id, outcome.result)
    ctx.emit(
        "step_finished",
        step_id=module.id,
        key=key,
        iteration=frame.iteration,
        data={"status": outcome.status, "result": outcome.result, "error": outcome.error,
              "duration": round(now - record.started_at, 6)},
    )
    return outcome


def _skip_if(ctx: RunContext, frame: Frame, module: Any, previous: Any) -> bool | Outcome:
    skip_if = getattr(module, "skip_if", None)
    if skip_if is None or not getattr(skip_if, "expr", None):
        return False
    try:
        return bool(evaluate(ctx, frame, skip_if.expr, previous, where=f"step {module.id}, skip_if"))
    except ExpressionError as exc:
        return Outcome.fail(failure(frame, module, "ExpressionError", str(exc)))


async def _run_with_retries(
    ctx: RunContext, frame: Frame, module: Any, key: str, record: Record, previous: Any
) -> Outcome:
    retry = getattr(module, "retry", None)
    while True:
        lost = losses.take_over(ctx, key, record, module)
        if lost is not None:
            return Outcome.fail(lost)  # not retried: the attempt would lose its worker again
        await _wait_retry_at(ctx, record)
        async with losses.turn(ctx, key, record, module):
            record.status, record.started_at = "running", record.started_at or ctx.clock.now()
            record.data.pop("retry_at", None)
            ctx.journal.save(key, record)
            started = {"attempt": record.attempts, "type": module.value.type}
            if frame.iteration is not None:  # what `flow_input.iter` is for it (the editor offers it)
                started["iter"] = frame.flow_input.get("iter")
            ctx.emit("step_started", step_id=module.id, key=key, iteration=frame.iteration, data=started)
            outcome = await _attempt(ctx, frame, module, key, previous)
        if not outcome.failed or not _should_retry(ctx, frame, module, retry, record, outcome):
            return outcome
        delay = retry.delay(record.attempts)
        record.attempts += 1
        record.data["retry_at"] = ctx.clock.now() + delay
        ctx.journal.save(key, record)
        ctx.emit("step_retrying", step_id=module.id, key=key, iteration=frame.iteration,
                 data={"attempt": record.attempts, "delay": delay, "error": outcome.error})
        if module.value.type in ("forloopflow", "whileloopflow", "branchone", "branchall"):
            ctx.journal.forget_under(key + "/")


def _should_retry(ctx: RunContext, frame: Frame, module: Any, retry: Any, record: Record, outcome: Outcome) -> bool:
    if retry is None or record.attempts >= retry.max_attempts:
        return False
    retry_if = getattr(retry, "retry_if", None)
    if retry_if is None or not getattr(retry_if, "expr", None):
        return True
    try:
        return bool(evaluate(ctx, frame, retry_if.expr, None, result=outcome.result,
                             where=f"step {module.id}, retry_if"))
    except ExpressionError:
        return False


async def _wait_retry_at(ctx: RunContext, record: Record) -> None:
    """After a restart, wait only what is left of a retry delay."""
    retry_at = record.data.get("retry_at")
    if retry_at is not None:
        await ctx.clock.sleep(retry_at - ctx.clock.now())


async def _attempt(ctx: RunContext, frame: Frame, module: Any, key: str, previous: Any) -> Outcome:
    """One try of the module, under the step's timeout."""
    from engine.executor.modules import run_module_value

    try:
        timeout = _number(ctx, frame, module, "timeout", previous)
    except ExpressionError as exc:
        return Outcome.fail(failure(frame, module, "ExpressionError", str(exc)))
    coro = run_module_value(ctx, frame, module, key, previous, timeout)
    if timeout is None or module.value.type in ("rawscript", "script"):
        return await coro
    try:
        return await asyncio.wait_for(coro, timeout)
    except asyncio.TimeoutError:
        return Outcome.fail(failure(frame, module, "TimeoutError", f"step {module.id} timed out after {timeout} s"))


def _early_stop(ctx: RunContext, frame: Frame, module: Any, outcome: Outcome) -> Outcome:
    """stop_after_if: end the flow (or break the enclosing loop) with this result."""
    if module.value.type in ("forloopflow", "whileloopflow"):
        return outcome
    stop = getattr(module, "stop_after_if", None)
    if stop is None or not getattr(stop, "expr", None):
        return outcome
    try:
        fired = evaluate(ctx, frame, stop.expr, None, result=outcome.result,
                         where=f"step {module.id}, stop_after_if")
    except ExpressionError as exc:
        return Outcome.fail(failure(frame, module, "ExpressionError", str(exc)))
    if not fired:
        return outcome
    return stopped(frame, module, stop, outcome.result)


def stopped(frame: Frame, module: Any, stop: Any, result: Any) -> Outcome:
    """The outcome of an early stop that fired: a stop, or an EarlyStopError failure."""
    message = getattr(stop, "error_message", None)
    if not message:
        return Outcome.ok(result, stop=True)
    error = failure(frame, module, "EarlyStopError", message)
    if getattr(stop, "error_include_result", False):
        error["result"] = result
    outcome = Outcome.fail(error)
    outcome.stop = True
    return outcome


async def _sleep_after(ctx: RunContext, frame: Frame, module: Any, key: str) -> None:
    record = ctx.journal.get(key)
    until = record.data.get("sleep_until") if record else None
    if until is None:
        try:
            seconds = _number(ctx, frame, module, "sleep", None)
        except ExpressionError:
            seconds = None
        if not seconds:
            return
        until = ctx.clock.now() + seconds
        if record is not None:
            record.data["sleep_until"] = until
            ctx.journal.save(key, record)
    await ctx.clock.sleep(until - ctx.clock.now())


def _number(ctx: RunContext, frame: Frame, module: Any, name: str, previous: Any) -> float | None:
    value = getattr(module, name, None)
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    result = evaluate_transform(ctx, frame, value, previous, where=f"step {module.id}, {name}")
    return float(result) if result is not None else None
