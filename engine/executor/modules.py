"""Running each kind of module: scripts, subflows, identity; loops and branches
live in their own modules. Also the sequence of modules that a flow, a loop
iteration and a branch are made of."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from engine.deps.pyimports import python_needs
from engine.errors import ExpressionError, MillraceError
from engine.executor import suspend as suspension
from engine.executor.context import Frame, RunContext
from engine.executor.outcome import Outcome
from engine.executor.scope import build_args
from engine.executor.failures import failure
from engine.executor.step import run_step
from engine.runners import ScriptJob
from engine.runners.signature import step_entry
from engine.runners.signature_sql import SQL_LANGUAGES, sql_signature

LOG_FLUSH_LINES = 200
YIELD_SECONDS = 0.005
"""How long steps that never wait may hold the engine's loop before other runs get a turn."""
_last_turn = time.monotonic()


async def run_sequence(ctx: RunContext, frame: Frame, modules: list[Any], previous: Any) -> Outcome:
    """Run modules one after the other, each fed the previous one's result.

    Stops at the first failure or early stop; its outcome is returned as is.
    """
    outcome = Outcome.ok(previous)
    for module in modules:
        outcome = await run_step(ctx, frame, module, previous)
        await _take_turns()
        if not suspension.wants_suspend(module):
            frame.extra = {}
        if outcome.failed or outcome.stop:
            return outcome
        previous = outcome.result
    return outcome


async def _take_turns() -> None:
    """Let the engine's other runs move, now and then: a loop of steps that never wait
    (identity, mocks, cached results) would otherwise hold the engine's loop to its end.
    Not after every step: a turn of the loop after each added 7% to identity steps."""
    global _last_turn
    now = time.monotonic()
    if now - _last_turn >= YIELD_SECONDS:
        _last_turn = now
        await asyncio.sleep(0)


async def run_module_value(
    ctx: RunContext, frame: Frame, module: Any, key: str, previous: Any, timeout: float | None
) -> Outcome:
    """Run the module's own work once (no retries, no options)."""
    from engine.executor import branches, loops

    kind = module.value.type
    try:
        if kind == "rawscript":
            value = module.value
            source = {"language": value.language, "content": value.content, "lock": value.lock, "path": value.path,
                      "dedicated": _flow_dedicated(ctx)}
            return await _run_script(ctx, frame, module, key, previous, source, timeout)
        if kind == "script":
            resolver = ctx.services.resolver
            language, content = resolver.script(module.value.path)
            source = {"language": language, "content": content, "lock": resolver.script_lock(module.value.path),
                      "path": module.value.path,
                      "dedicated": _flow_dedicated(ctx) or resolver.script_dedicated(module.value.path)}
            return await _run_script(ctx, frame, module, key, previous, source, timeout)
        if kind == "flow":
            return await _run_subflow(ctx, frame, module, key, previous)
        if kind == "identity":
            return Outcome.ok(previous)
        if kind in ("forloopflow", "whileloopflow"):
            return await loops.run_loop(ctx, frame, module, key, previous)
        if kind in ("branchone", "branchall"):
            return await branches.run_branches(ctx, frame, module, key, previous)
    except ExpressionError as exc:
        return Outcome.fail(failure(frame, module, "ExpressionError", str(exc)))
    except MillraceError as exc:
        return Outcome.fail(failure(frame, module, type(exc).__name__, str(exc)))
    return Outcome.fail(failure(frame, module, "UnsupportedModule", f"module type {kind!r} cannot run"))


async def _run_script(
    ctx: RunContext, frame: Frame, module: Any, key: str, previous: Any, source: dict[str, Any], timeout: float | None,
) -> Outcome:
    """Run a step's script: `source` holds its language, content, lock and workspace path."""
    from engine.executor import parts

    language, content = source["language"], source["content"]
    job = {**source, "args": build_args(ctx, frame, module, previous), "timeout": timeout,
           "modules": _workspace_modules(ctx, language, content, source.get("path"))}
    ctx.journal.note_args(key, job["args"])
    if module is getattr(ctx.flow, "preprocessor_module", None):
        job["entry"] = step_entry(language, content, preprocessor=True)
    tag = parts.step_tag(module.value, language)
    if parts.dispatches_step(ctx, tag):
        return await parts.run_step_part(ctx, key, module.id, frame.iteration, job, tag)
    return await run_script_job(ctx, key, module.id, frame.iteration, job)


async def run_script_job(
    ctx: RunContext, key: str, step_id: str, iteration: int | None, job: dict[str, Any]
) -> Outcome:
    """Run a step's script here: `job` holds its language, content, args and timeout."""
    logs = _LogSink(ctx, step_id, key, iteration)
    try:
        resources = named_resources(ctx, job["language"], job["content"])
    except MillraceError as exc:
        return Outcome.fail(_script_error(step_id, iteration, {"name": type(exc).__name__, "message": str(exc)}))
    script = ScriptJob(
        language=job["language"], content=job["content"], args=job["args"], job_id=f"{ctx.run_id}:{key}",
        timeout=job.get("timeout"), cwd=ctx.workdir(), env=ctx.script_env(key), entry=job.get("entry", "main"),
        resources=resources,
        lock=job.get("lock"), path=job.get("path"), modules=job.get("modules") or {},
        dedicated=bool(job.get("dedicated")),
    )
    try:
        done = await ctx.services.runners.run(script, logs.add)
    finally:
        logs.flush()
    if done.ok:
        return Outcome.ok(done.result)
    return Outcome.fail(_script_error(step_id, iteration, done.error))


def _flow_dedicated(ctx: RunContext) -> bool:
    """Whether the flow marks its script steps dedicated (`dedicated_worker: true`)."""
    return bool(getattr(ctx.flow, "dedicated_worker", False))


def named_resources(ctx: RunContext, language: str, content: str) -> dict[str, Any]:
    """The values of the resources a SQL step's text names (`-- database`, `ATTACH '$res:'`),
    resolved here because the job cannot reach the vault."""
    if language not in SQL_LANGUAGES:
        return {}
    from engine.vault import Vault

    vault = Vault.of(ctx.services.store)
    paths = sql_signature(language, content).resources()
    return {path: vault.resource_value(path, workspace=ctx.services.workspace, reveal=True) for path in paths}


def _script_error(step_id: str, iteration: int | None, given: dict | None) -> dict[str, Any]:
    """A failed script's error object, naming its step (and loop iteration)."""
    error = dict(given or {})
    error.setdefault("name", "Error")
    error.setdefault("message", "")
    error.setdefault("stack", "")
    error["step_id"] = step_id
    if iteration is not None:
        error["iteration"] = iteration
    return error


def _workspace_modules(ctx: RunContext, language: str, content: str, path: str | None) -> dict[str, str]:
    """The workspace scripts a Python step imports (`from f.folder.x import y`), by path."""
    if language != "python3":
        return {}
    return python_needs(content, path=path, fetch=ctx.services.resolver.python_source).modules


async def _run_subflow(ctx: RunContext, frame: Frame, module: Any, key: str, previous: Any) -> Outcome:
    from engine.executor.flow import run_child_flow

    document = ctx.services.resolver.flow(module.value.path)
    args = build_args(ctx, frame, module, previous)
    ctx.journal.note_args(key, args)
    child = await run_child_flow(ctx, document, args, key=key, path=module.value.path)
    if child.status == "success":
        return Outcome.ok(child.result)
    error = dict(child.error or {"name": "FlowError", "message": "subflow failed"})
    error["step_id"] = module.id
    if frame.iteration is not None:
        error["iteration"] = frame.iteration
    return Outcome.fail(error)


class _LogSink:
    """Collects a step's log lines: an event per line, stored in batches."""

    def __init__(self, ctx: RunContext, step_id: str, key: str, iteration: int | None):
        self.ctx, self.step_id, self.key, self.iteration = ctx, step_id, key, iteration
        self.lines: list[tuple[float, str, str]] = []
        self.masker = ctx.services.masker

    def add(self, line: Any) -> None:
        # Masked before it is stored or sent, whichever stream it came from.
        text = self.masker.text(line.line) if self.masker is not None else line.line
        self.lines.append((line.ts, line.stream, text))
        self.ctx.emit("step_log", step_id=self.step_id, key=self.key, iteration=self.iteration,
                      data={"ts": line.ts, "stream": line.stream, "line": text})
        if len(self.lines) >= LOG_FLUSH_LINES:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            self.ctx.services.store.append_logs(self.ctx.run_id, self.key, self.lines)
            self.lines = []
