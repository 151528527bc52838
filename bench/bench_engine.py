"""Engine speed: sequential and parallel python steps, a 1,000-iteration loop, and the
CLI's whole-process time. Prints medians of several runs and the ratio to each budget.

Run from the project root: `.venv/bin/python bench/bench_engine.py`.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import Engine, Store  # noqa: E402

FIB = "def main(n: int = 10):\n    def fib(k):\n        return k if k < 2 else fib(k - 1) + fib(k - 2)\n    return fib(n)\n"
REPEATS = 7


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


async def timed_runs(engine: Engine, document: dict, repeats: int = REPEATS) -> float:
    await engine.run(document, {})
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        outcome = await engine.run(document, {})
        samples.append(time.perf_counter() - began)
        assert outcome.status == "success", outcome.error
    return statistics.median(samples)


async def engine_rows(db_dir: str) -> list[dict]:
    engine = Engine(store=Store.open(f"sqlite:///{db_dir}/bench.db"))
    try:
        one = await timed_runs(engine, sequential(1))
        forty = await timed_runs(engine, sequential(40))
        fan = await timed_runs(engine, parallel(40))
        thousand = await timed_runs(engine, loop(1000), repeats=3)
    finally:
        await engine.close()
    overhead = forty - one
    return [
        row("1-step flow (fib 10)", one, None),
        row("40 sequential fib(10) steps", forty, None),
        row("  overhead vs 1-step flow", overhead, 0.100),
        row("  per step", overhead / 39, 0.002),
        row("40 parallel fib(10) + sum", fan, 0.150),
        row("1,000-iteration for-loop (python body)", thousand, 2.0),
    ]


def cli_row(db_dir: str) -> dict:
    flow = Path(db_dir) / "one.json"
    flow.write_text(json.dumps(sequential(1)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    samples = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "engine", "run", str(flow)], cwd=db_dir, env=env,
                       check=True, capture_output=True)
        samples.append(time.perf_counter() - began)
    return row("python -m engine run, 1-step flow (process)", statistics.median(samples), 0.5)


def row(name: str, seconds: float, budget: float | None) -> dict:
    return {"name": name, "median_ms": round(seconds * 1000, 2),
            "budget_ms": None if budget is None else budget * 1000,
            "ratio": None if budget is None else round(seconds / budget, 3)}


def main() -> list[dict]:
    with tempfile.TemporaryDirectory() as db_dir:
        rows = asyncio.run(engine_rows(db_dir))
        rows.append(cli_row(db_dir))
    return rows


def print_rows(rows: list[dict]) -> None:
    print(f"{'benchmark':48} {'median':>12} {'budget':>10} {'ratio':>7}")
    for r in rows:
        budget = f"{r['budget_ms']:.0f} ms" if r["budget_ms"] is not None else "-"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
        print(f"{r['name']:48} {r['median_ms']:>9.2f} ms {budget:>10} {ratio:>7}")


if __name__ == "__main__":
    print_rows(main())
