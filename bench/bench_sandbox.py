"""What the sandbox costs a job: Python and Bash jobs through a RunnerPool, sandbox on and off.

Each row is the median (with min–max) of many jobs run one after another on a warm
pool, and the CPU time per job of the whole process tree (this process, the zygote,
its spares and the jobs: counted once the pool is closed and every process reaped),
which a busy machine disturbs less than wall time. The "sandbox cost" rows are the
differences. The budget is Millrace's per-step engine overhead budget (1 ms): isolation
should take no noticeable part of it.

Run from the project root: `.venv/bin/python bench/bench_sandbox.py`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import resource
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


def cpu_seconds() -> float:
    """CPU time of this process and of every child it has reaped."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def job_times(sandboxed: bool, language: str) -> tuple[list[float], float]:
    """Wall time of each job, and CPU time per job of the whole tree (start-up included)."""
    policy = dataclasses.replace(SandboxPolicy.from_env(), enabled=sandboxed, shared=())
    cpu_before = cpu_seconds()
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
    finally:
        await pool.close()
    return samples, (cpu_seconds() - cpu_before) / (WARM_UP + SAMPLES[language])


def main() -> list[dict]:
    rows = []
    for language in JOBS:
        measured = {on: asyncio.run(job_times(on, language)) for on in (False, True)}
        for on in (False, True):
            rows.append(row(f"{language} job, sandbox {'on' if on else 'off'}", measured[on][0], None))
        for on in (False, True):
            rows.append(single(f"  CPU per {language} job, sandbox {'on' if on else 'off'}", measured[on][1], None))
        wall = statistics.median(measured[True][0]) - statistics.median(measured[False][0])
        rows.append(single(f"  sandbox cost per {language} job (wall)", wall, BUDGET))
        rows.append(single(f"  sandbox cost per {language} job (CPU)", measured[True][1] - measured[False][1], None))
    return rows


def single(name: str, seconds: float, budget: float | None) -> dict:
    return {"name": name, "median_ms": round(seconds * 1000, 3), "range": "",
            "budget_ms": None if budget is None else budget * 1000,
            "ratio": None if budget is None else round(seconds / budget, 2)}


def row(name: str, samples: list[float], budget: float | None) -> dict:
    median = statistics.median(samples)
    return {"name": name, "median_ms": round(median * 1000, 3),
            "range": f"{min(samples) * 1000:.2f}–{max(samples) * 1000:.2f} ms",
            "budget_ms": None if budget is None else budget * 1000,
            "ratio": None if budget is None else round(median / budget, 2)}


def print_rows(rows: list[dict]) -> None:
    print(f"{'benchmark':44} {'median':>10} {'min–max':>18} {'budget':>8} {'ratio':>6}")
    for r in rows:
        budget = f"{r['budget_ms']:.0f} ms" if r["budget_ms"] is not None else "-"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
        print(f"{r['name']:44} {r['median_ms']:>7.3f} ms {r['range']:>18} {budget:>8} {ratio:>6}")


if __name__ == "__main__":
    print_rows(main())
