"""What a step's dependencies cost: a pandas step cold, warm and hot, and the per-step overhead of a lock.

- cold: the step's first run where its lock is not installed yet (install, the lock's
  zygote starting and importing pandas, the step); the first sample also downloads the
  wheels, the others find them in uv's download cache.
- warm: the first run after a restart (a new runner pool: the lock is installed, its
  zygote is not started).
- hot: later runs (the lock's zygote is warm, pandas already imported in it).
- overhead: a tiny step with a lock against the same step without one, on warm pools,
  interleaved; the difference of the medians must stay within 0.5 ms.

Each row is the median with min–max. Run from the project root: `.venv/bin/python bench/deps.py`
(it installs pandas from the package index into a temporary cache).
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.figures import print_rows, row, single  # noqa: E402
from engine.deps.service import Dependencies  # noqa: E402
from engine.runners import RunnerPool, ScriptJob  # noqa: E402

PANDAS_STEP = """
import pandas as pd

def main(n: int):
    frame = pd.DataFrame({"x": range(n)})
    return int(frame["x"].sum())
"""
TINY_STEP = "import six\n\ndef main(x: int):\n    return x + 1\n"
TINY_PLAIN = "def main(x: int):\n    return x + 1\n"
COLD, WARM, HOT, OVERHEAD = 3, 5, 50, 400
OVERHEAD_BUDGET = 0.0005


async def one_run(pool: RunnerPool, content: str, lock: str | None, n: int) -> float:
    began = time.perf_counter()
    outcome = await pool.run(ScriptJob("python3", content, {"n": n, "x": n}, f"bench-{n}", lock=lock))
    elapsed = time.perf_counter() - began
    assert outcome.ok, outcome.error
    return elapsed


async def cold_runs(root: Path, lock: str) -> list[float]:
    """First runs on a cache without the lock's environment (uv's download cache kept)."""
    samples = []
    for n in range(COLD):
        for kind in ("python", "building"):
            shutil.rmtree(root / kind, ignore_errors=True)
        pool = RunnerPool(deps=Dependencies(root))
        try:
            samples.append(await one_run(pool, PANDAS_STEP, lock, n + 10))
        finally:
            await pool.close()
    return samples


async def warm_and_hot(root: Path, lock: str) -> tuple[list[float], list[float]]:
    warm, hot = [], []
    for n in range(WARM):
        pool = RunnerPool(deps=Dependencies(root))
        try:
            warm.append(await one_run(pool, PANDAS_STEP, lock, n + 10))
            if n == WARM - 1:
                for m in range(HOT):
                    hot.append(await one_run(pool, PANDAS_STEP, lock, m + 10))
                    await asyncio.sleep(0.002)  # as between steps: the next spare gets ready
        finally:
            await pool.close()
    return warm, hot


async def overhead(root: Path) -> tuple[list[float], list[float]]:
    """A tiny step with a lock and without one, interleaved on one warm pool."""
    deps = Dependencies(root)
    lock = deps.lock_for("python3", TINY_STEP)
    pool = RunnerPool(deps=deps)
    locked, plain = [], []
    try:
        for n in range(20):  # both zygotes up, the lock installed
            await one_run(pool, TINY_STEP, lock, n)
            await one_run(pool, TINY_PLAIN, None, n)
        for n in range(OVERHEAD):
            locked.append(await one_run(pool, TINY_STEP, lock, n))
            await asyncio.sleep(0.002)
            plain.append(await one_run(pool, TINY_PLAIN, None, n))
            await asyncio.sleep(0.002)
    finally:
        await pool.close()
    return locked, plain


async def prepare_cost(root: Path, lock: str | None, content: str) -> list[float]:
    """What looking at a step's dependencies costs the engine, per step, once warm."""
    deps = Dependencies(root)
    job = ScriptJob("python3", content, {"x": 1}, "bench", lock=lock)
    held = await deps.prepare(job, None)  # as a lock's zygote holds its environment
    samples = []
    for _ in range(20):
        began = time.perf_counter()
        for _ in range(500):
            (await deps.prepare(job, None)).release()
        samples.append((time.perf_counter() - began) / 500)
    held.release()
    return samples


def main() -> list[dict]:
    root = Path(tempfile.mkdtemp(prefix="millrace-bench-deps-"))
    try:
        deps = Dependencies(root)
        began = time.perf_counter()
        lock = deps.lock_for("python3", PANDAS_STEP)
        resolved = time.perf_counter() - began
        cold = asyncio.run(cold_runs(root, lock))
        warm, hot = asyncio.run(warm_and_hot(root, lock))
        locked, plain = asyncio.run(overhead(root))
        tiny_lock = deps.lock_for("python3", TINY_STEP)
        prepared_plain = asyncio.run(prepare_cost(root, None, TINY_PLAIN))
        prepared_locked = asyncio.run(prepare_cost(root, tiny_lock, TINY_STEP))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    pinned = [line for line in lock.splitlines() if line.startswith("pandas==")]
    rows = [single(f"resolve the lock ({pinned[0] if pinned else 'pandas'})", resolved, None),
            single("pandas step, cold, downloads included", cold[0], None),
            row("pandas step, cold (wheels in uv's cache)", cold[1:] or cold, None),
            row("pandas step, warm (first run after restart)", warm, None),
            row("pandas step, hot (its zygote warm)", hot, None),
            row("tiny step with a lock", locked, None),
            row("tiny step without one", plain, None)]
    rows.append(single("  overhead of a lock per step", statistics.median(locked) - statistics.median(plain),
                       OVERHEAD_BUDGET))
    rows.append(row("  engine's look at a step without dependencies", prepared_plain, None))
    rows.append(row("  engine's look at a step with a lock (installed)", prepared_locked, None))
    return rows


if __name__ == "__main__":
    print_rows(main())
