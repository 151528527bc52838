"""Branch to one (the first branch whose predicate is truthy, else `default`) and
branch to all (one entry per branch, in branch order; parallel unless told not to).

An early stop (stop_after_if) inside a branch stops the whole flow, as at top level: in
a branchone with the branch's result, in a branchall with the entries of its branches.
"""

from __future__ import annotations

import asyncio
from typing import Any

from engine.executor.context import Frame, RunContext
from engine.executor.modules import run_sequence
from engine.executor.outcome import Outcome
from engine.executor.scope import evaluate


async def run_branches(ctx: RunContext, frame: Frame, module: Any, key: str, previous: Any) -> Outcome:
    """Run a branchone or branchall module."""
    if module.value.type == "branchone":
        return await _branch_one(ctx, frame, module, key, previous)
    return await _branch_all(ctx, frame, module, key, previous)


async def _branch_one(ctx: RunContext, frame: Frame, module: Any, key: str, previous: Any) -> Outcome:
    record = ctx.journal.get(key)
    chosen = record.data.get("branch") if record is not None else None
    if chosen is None:
        chosen = choose_branch(ctx, frame, module, previous)
        if record is not None:
            record.data["branch"] = chosen
            ctx.journal.save(key, record)
    ctx.emit("branch_chosen", step_id=module.id, key=key, iteration=frame.iteration, data={"branch": chosen})
    branches = module.value.branches or []
    modules = module.value.default if chosen == "default" else branches[chosen].modules
    return await run_sequence(ctx, frame, modules or [], previous)


def choose_branch(ctx: RunContext, frame: Frame, module: Any, previous: Any) -> int | str:
    """Index of the first branch whose `expr` is truthy, or "default"."""
    for index, branch in enumerate(module.value.branches or []):
        where = f"step {module.id}, branch {index}"
        if evaluate(ctx, frame, branch.expr or "false", previous, where=where):
            return index
    return "default"


async def _branch_all(ctx: RunContext, frame: Frame, module: Any, key: str, previous: Any) -> Outcome:
    from engine.executor import parts

    branches = module.value.branches or []
    parallel = getattr(module.value, "effective_parallel", None)
    if parallel is None:
        parallel = module.value.parallel is not False

    async def one(branch: Any) -> Outcome:
        return await run_sequence(ctx, frame, branch.modules or [], previous)

    spread = parallel and len(branches) > 1 and parts.spreads(ctx, [m for b in branches for m in b.modules or []])
    if spread:
        outcomes = await parts.run_branches(ctx, frame, module, key, previous)
    elif parallel:
        outcomes = list(await asyncio.gather(*(one(b) for b in branches)))
    else:
        outcomes = []
        for branch in branches:
            outcomes.append(await one(branch))
            if outcomes[-1].stop or (outcomes[-1].failed and not getattr(branch, "skip_failure", False)):
                break
    return gathered(branches, outcomes)


def gathered(branches: list[Any], outcomes: list[Outcome]) -> Outcome:
    """A branchall's outcome: one entry per branch that ran, in branch order.

    A failed branch is its `{"error": ...}` entry; unless it has skip_failure, the step
    fails (with every entry: parallel branches all run to their end). An early stop
    inside a branch stops the whole flow, as at top level, with the entries.
    """
    results = [{"error": outcome.error} if outcome.failed else outcome.result for outcome in outcomes]
    fatal = next((o for b, o in zip(branches, outcomes) if o.failed and not getattr(b, "skip_failure", False)), None)
    if fatal is not None:
        return Outcome("failure", results, fatal.error)
    return Outcome.ok(results, stop=any(outcome.stop for outcome in outcomes))
