"""The engine's own cost, without script processes, run through the whole engine (queue,
driver, journal in SQLite, events): 1- and 40-step flows and a 1,000-iteration loop,
run one at a time as the CLI does, and a batch of one-step runs served by a queue
worker as the app and the load benchmark serve them; of `identity` steps (which the engine answers itself) and of Python steps whose runner
answers at once (every part of a script step but the process: args from expressions,
two journal writes, events). Prints the median of several runs, their min–max, the
ratio to issue 14's budgets (dedicated mode's: the engine's share), and CPU per step.

Run from the project root: `.venv/bin/python bench/bench_engine_overhead.py [REPEATS]`.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.figures import print_rows, row  # noqa: E402
from engine import Engine, Store  # noqa: E402
from engine.runners.job import ScriptOutcome  # noqa: E402

REPEATS = 7
BATCH = 200
"""One-step runs per batch served by the queue worker."""
BUDGETS = {"per_step": 0.0002, "loop": 0.3}
"""Issue 14's budgets for the engine alone (dedicated mode's), in seconds."""


class EchoRunners:
    """Runners that answer every script at once with its `x` argument: the script path
    of the engine without a process."""

    async def run(self, job, on_log=None) -> ScriptOutcome:
        return ScriptOutcome(ok=True, result=job.args.get("x"))

    async def close(self) -> None:
        pass


def identity(step_id: str, expr: str) -> dict:
    return {"id": step_id, "value": {"type": "identity"}}


def python(step_id: str, expr: str) -> dict:
    return {"id": step_id, "value": {"type": "rawscript", "language": "python3",
                                     "content": "def main(x):\n    return x\n",
                                     "input_transforms": {"x": {"type": "javascript", "expr": expr}}}}


def sequential(step, n: int) -> dict:
    return {"summary": f"{n} steps", "value": {"modules": [step(f"s{i}", "flow_input.x") for i in range(n)]}}


def loop(step, n: int) -> dict:
    iterator = {"type": "static", "value": list(range(n))}
    body = step("body", "flow_input.iter.value")
    return {"summary": "loop", "value": {"modules": [
        {"id": "l", "value": {"type": "forloopflow", "iterator": iterator, "modules": [body]}}]}}


async def timed(engine: Engine, document: dict, cpu: list[float]) -> float:
    """Seconds one run takes (it must succeed); appends its CPU seconds (every thread)."""
    began_cpu, began = time.process_time(), time.perf_counter()
    outcome = await engine.run(document, {"x": 1})
    elapsed = time.perf_counter() - began
    cpu.append(time.process_time() - began_cpu)
    assert outcome.status == "success", outcome.error
    return elapsed


async def engine_rows(db_dir: str, repeats: int, step, label: str) -> list[dict]:
    engine = Engine(store=Store.open(f"sqlite:///{db_dir}/{label}.db"), runners=EchoRunners())
    flows = {"one": sequential(step, 1), "forty": sequential(step, 40), "loop": loop(step, 1000)}
    wall = {name: [] for name in flows}
    cpu = {name: [] for name in flows}
    try:
        for document in flows.values():
            await timed(engine, document, [])  # warm: caches, statements
        for _ in range(repeats):  # alternated, under the same load
            for name, document in flows.items():
                wall[name].append(await timed(engine, document, cpu[name]))
    finally:
        await engine.close()
    per_step = [(forty - one) / 39 for one, forty in zip(wall["one"], wall["forty"])]
    cpu_step = [(forty - one) / 39 for one, forty in zip(cpu["one"], cpu["forty"])]
    return [
        row(f"1 {label} step (whole run)", wall["one"], None),
        row("  CPU, whole run", cpu["one"], None),
        row(f"40 {label} steps", wall["forty"], None),
        row("  engine time per step (40 vs 1)", per_step, BUDGETS["per_step"]),
        row("  CPU per step (40 vs 1)", cpu_step, BUDGETS["per_step"]),
        row(f"1,000-iteration loop, {label} body", wall["loop"], BUDGETS["loop"]),
        row("  CPU of the loop run", cpu["loop"], BUDGETS["loop"]),
    ]


async def served_rows(db_dir: str, repeats: int) -> list[dict]:
    """CPU per one-step run (python, no process) of batches a queue worker serves."""
    from engine.worker import QueueWorker

    engine = Engine(store=Store.open(f"sqlite:///{db_dir}/served.db"), runners=EchoRunners())
    worker = QueueWorker(engine, concurrency=8, grace=5.0)
    serving = asyncio.get_running_loop().create_task(worker.serve())
    document, cpu = sequential(python, 1), []
    try:
        for batch in range(repeats + 1):
            began = time.process_time()
            engine.submit_many(document, [{"x": x} for x in range(BATCH)], path=f"f/batch{batch}")
            while engine.store.count_runs(path=f"f/batch{batch}", status=["success", "failure"]) < BATCH:
                await asyncio.sleep(0.01)
            if batch:  # the first warms up
                cpu.append((time.process_time() - began) / BATCH)
    finally:
        worker.stop()
        await serving
        await engine.close()
    return [row(f"CPU per one-step run, {BATCH} queued, worker serving", cpu, None)]


async def all_rows(db_dir: str, repeats: int) -> list[dict]:
    return [*await engine_rows(db_dir, repeats, identity, "identity"),
            *await engine_rows(db_dir, repeats, python, "python (no process)"),
            *await served_rows(db_dir, repeats)]


def main(repeats: int = REPEATS) -> list[dict]:
    with tempfile.TemporaryDirectory() as db_dir:
        return asyncio.run(all_rows(db_dir, repeats))


if __name__ == "__main__":
    print_rows(main(int(sys.argv[1]) if len(sys.argv) > 1 else REPEATS))
