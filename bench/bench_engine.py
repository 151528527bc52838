"""Engine speed: sequential and parallel python steps, a 1,000-iteration loop (forked per
step, and in dedicated mode), and the CLI's whole-process time. Prints the median of several runs, their min–max and the ratio
to each budget of issue 14.

Run from the project root: `.venv/bin/python bench/bench_engine.py [REPEATS]`.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.figures import print_rows, row  # noqa: E402
from bench.load import tree_cpu  # noqa: E402
from engine import Engine, Store  # noqa: E402

FIB = "def main(n: int = 10):\n    def fib(k):\n        return k if k < 2 else fib(k - 1) + fib(k - 2)\n    return fib(n)\n"
REPEATS = 7
LOOP_REPEATS = 3
BUDGETS = {"per_step": 0.001, "fan": 0.100, "loop": 1.0, "cli": 0.4, "dedicated_loop": 0.3,
           "dedicated_step": 0.0002}
"""Issue 14's budgets, in seconds."""
DEDICATED = ("dedicated_one", "dedicated_forty", "dedicated_loop")


def fib_step(step_id: str) -> dict:
    return {"id": step_id, "value": {"type": "rawscript", "language": "python3", "content": FIB,
                                     "input_transforms": {"n": {"type": "static", "value": 10}}}}


def sequential(n: int) -> dict:
    return {"summary": f"{n} sequential", "value": {"modules": [fib_step(f"s{i}") for i in range(n)]}}


def parallel(n: int) -> dict:
    branches = [{"modules": [fib_step(f"p{i}")]} for i in range(n)]
    total = {"id": "total", "value": {"type": "rawscript", "language": "python3",
                                      "content": "def main(xs: list):\n    return sum(xs)\n",
                                      "input_transforms": {"xs": {"type": "javascript", "expr": "results.fan"}}}}
    return {"summary": "fan out", "value": {"modules": [{"id": "fan", "value": {"type": "branchall", "branches": branches}}, total]}}


def loop(n: int) -> dict:
    body = {"id": "body", "value": {"type": "rawscript", "language": "python3",
                                    "content": "def main(x: int):\n    return x * 2\n",
                                    "input_transforms": {"x": {"type": "javascript", "expr": "flow_input.iter.value"}}}}
    iterator = {"type": "javascript", "expr": f"Array.from({{length: {n}}}, (_, i) => i)"}
    return {"summary": "loop", "value": {"modules": [{"id": "l", "value": {"type": "forloopflow", "iterator": iterator, "modules": [body]}}]}}


def dedicated(document: dict) -> dict:
    """The flow in dedicated mode: its Python steps call main in one warm worker."""
    return {**document, "dedicated_worker": True}


async def round_trips(engine: Engine, n: int) -> float:
    """Seconds per dedicated job through the runner pool alone (the runner's share of a step)."""
    from engine.runners import ScriptJob

    job = ScriptJob("python3", "def main(x: int):\n    return x * 2\n", {"x": 1}, "bench", dedicated=True)
    await engine.services.runners.run(job)
    began = time.perf_counter()
    for _ in range(n):
        outcome = await engine.services.runners.run(job)
    assert outcome.ok, outcome.error
    return (time.perf_counter() - began) / n


async def timed(engine: Engine, document: dict, cpu: list[tuple[float, float]] | None = None) -> float:
    """Seconds one run of `document` takes (it must succeed); appends to `cpu` the CPU
    seconds it cost this process (every thread) and the scripts' processes (the zygotes'
    trees), which a machine busy with other work disturbs less than wall time."""
    before = tree_cpu([os.getpid()])
    began = time.perf_counter()
    outcome = await engine.run(document, {})
    elapsed = time.perf_counter() - began
    assert outcome.status == "success", outcome.error
    if cpu is not None:
        after = tree_cpu([os.getpid()])
        cpu.append((after[0] - before[0], after[1] - before[1]))
    return elapsed


async def engine_rows(db_dir: str, repeats: int) -> list[dict]:
    engine = Engine(store=Store.open(f"sqlite:///{db_dir}/bench.db"))
    flows = {"one": sequential(1), "forty": sequential(40), "fan": parallel(40), "loop": loop(1000),
             "dedicated_one": dedicated(sequential(1)), "dedicated_forty": dedicated(sequential(40)),
             "dedicated_loop": dedicated(loop(1000))}
    samples: dict[str, list[float]] = {name: [] for name in flows}
    cpu: dict[str, list[tuple[float, float]]] = {"one": [], "forty": [], "dedicated_one": [], "dedicated_forty": []}
    trips: list[float] = []
    try:
        for document in flows.values():
            await timed(engine, document)  # warm: zygote, spares, caches
        # Alternated, so that each 40-step run has a 1-step run beside it under the same load.
        for n in range(repeats):
            for name in ("one", "forty", "fan", *DEDICATED) + (("loop",) if n < LOOP_REPEATS else ()):
                samples[name].append(await timed(engine, flows[name], cpu.get(name)))
            trips.append(await round_trips(engine, 1000))
    finally:
        await engine.close()
    per_step = [(forty - one) / 39 for one, forty in zip(samples["one"], samples["forty"])]
    cpu_steps = [[(forty[n] - one[n]) / 39 for one, forty in zip(cpu["one"], cpu["forty"])] for n in (0, 1)]
    return [
        row("1-step flow (fib 10)", samples["one"], None),
        row("40 sequential fib(10) steps", samples["forty"], None),
        row("  engine overhead per step (40 vs 1)", per_step, BUDGETS["per_step"]),
        row("  CPU per step: engine (every thread)", cpu_steps[0], None),
        row("  CPU per step: the script's processes", cpu_steps[1], None),
        row("40 parallel fib(10) + sum", samples["fan"], BUDGETS["fan"]),
        row("1,000-iteration for-loop (python body)", samples["loop"], BUDGETS["loop"]),
        *dedicated_rows(samples, trips, cpu),
    ]


def dedicated_rows(samples: dict[str, list[float]], trips: list[float],
                   cpu: dict[str, list[tuple[float, float]]]) -> list[dict]:
    """Dedicated mode: the loop, the cost per step (40 vs 1 sequential fib steps, as above,
    with its CPU), and the runner's share of it (a job's round trip to its warm worker)."""
    per_step = [(forty - one) / 39 for one, forty in zip(samples["dedicated_one"], samples["dedicated_forty"])]
    cpu_steps = [[(forty[n] - one[n]) / 39 for one, forty in zip(cpu["dedicated_one"], cpu["dedicated_forty"])]
                 for n in (0, 1)]
    return [
        row("dedicated mode: 1,000-iteration loop", samples["dedicated_loop"], BUDGETS["dedicated_loop"]),
        row("  dedicated mode: per step (40 vs 1)", per_step, BUDGETS["dedicated_step"]),
        row("  dedicated: CPU per step, engine", cpu_steps[0], None),
        row("  dedicated: CPU per step, the worker", cpu_steps[1], None),
        row("  dedicated mode: runner round trip per job", trips, None),
    ]


def cli_row(db_dir: str, repeats: int) -> dict:
    flow = Path(db_dir) / "one.json"
    flow.write_text(json.dumps(sequential(1)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    # As installed: the first (unmeasured) run caches the bytecode the others load.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    samples = []
    for _ in range(repeats + 1):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "engine", "run", str(flow)], cwd=db_dir, env=env,
                       check=True, capture_output=True)
        samples.append(time.perf_counter() - began)
    return row("python -m engine run, 1-step flow (process)", samples[1:], BUDGETS["cli"])


def main(repeats: int = REPEATS) -> list[dict]:
    with tempfile.TemporaryDirectory() as db_dir:
        rows = asyncio.run(engine_rows(db_dir, repeats))
        rows.append(cli_row(db_dir, repeats))
    return rows


if __name__ == "__main__":
    print_rows(main(int(sys.argv[1]) if len(sys.argv) > 1 else REPEATS))
