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

from bench.figures import print_rows, row, single  # noqa: E402
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


if __name__ == "__main__":
    print_rows(main())
