"""What the sandbox costs a job: Python and Bash jobs through a RunnerPool, sandbox on and off.

Each row is the median (with min–max) of many jobs run one after another on a warm
pool; the "sandbox cost" rows are the difference. The budget is Millrace's per-step
engine overhead budget (1 ms): isolation should take no noticeable part of it.

Run from the project root: `.venv/bin/python bench/bench_sandbox.py`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.runners import RunnerPool, ScriptJob  # noqa: E402
from engine.runners.sandbox import SandboxPolicy  # noqa: E402

JOBS = {"python3": "def main(x: int):\n    return x + 1\n", "bash": 'x="$1"\necho $((x + 1))\n'}
WARM_UP = 10
SAMPLES = {"python3": 200, "bash": 100}
BUDGET = 0.001


async def job_times(sandboxed: bool, language: str) -> list[float]:
    policy = dataclasses.replace(SandboxPolicy.from_env(), enabled=sandboxed, shared=())
    pool = RunnerPool(policy=policy)
    try:
        samples = []
        for n in range(WARM_UP + SAMPLES[language]):
            began = time.perf_counter()
            outcome = await pool.run(ScriptJob(language, JOBS[language], {"x": n}, f"bench-{n}"))
            elapsed = time.perf_counter() - began
            assert outcome.ok and outcome.result == n + 1, outcome.error
            if n >= WARM_UP:
                samples.append(elapsed)
            await asyncio.sleep(0.002)  # as between steps: the next spare gets ready
        return samples
    finally:
        await pool.close()


def main() -> list[dict]:
    rows = []
    for language in JOBS:
        times = {on: asyncio.run(job_times(on, language)) for on in (False, True)}
        for on in (False, True):
            rows.append(row(f"{language} job, sandbox {'on' if on else 'off'}", times[on], None))
        cost = statistics.median(times[True]) - statistics.median(times[False])
        rows.append({"name": f"  sandbox cost per {language} job", "median_ms": round(cost * 1000, 3),
                     "range": "", "budget_ms": BUDGET * 1000, "ratio": round(cost / BUDGET, 2)})
    return rows


def row(name: str, samples: list[float], budget: float | None) -> dict:
    median = statistics.median(samples)
    return {"name": name, "median_ms": round(median * 1000, 3),
            "range": f"{min(samples) * 1000:.2f}–{max(samples) * 1000:.2f} ms",
            "budget_ms": None if budget is None else budget * 1000,
            "ratio": None if budget is None else round(median / budget, 2)}


def print_rows(rows: list[dict]) -> None:
    print(f"{'benchmark':36} {'median':>10} {'min–max':>18} {'budget':>8} {'ratio':>6}")
    for r in rows:
        budget = f"{r['budget_ms']:.0f} ms" if r["budget_ms"] is not None else "-"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
        print(f"{r['name']:36} {r['median_ms']:>7.3f} ms {r['range']:>18} {budget:>8} {ratio:>6}")


if __name__ == "__main__":
    print_rows(main())
