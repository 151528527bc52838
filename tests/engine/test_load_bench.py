"""bench/load.py still runs, and its exactly-once check still passes, at tiny counts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.pg import SKIP_ENV

ROOT = Path(__file__).resolve().parents[2]
TINY = ("--quick", "--runs", "40", "--flows", "4", "--paced", "5", "--workers", "2", "--concurrency", "2")


def test_load_bench_quick_runs_every_run_exactly_once():
    backend = "sqlite" if os.environ.get(SKIP_ENV) == "1" else "both"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), *TINY, "--backend", backend],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "exactly-once check: PASSED"
    setups = 2 if backend == "both" else 1
    assert sum(line.strip() == "exactly once: ok" for line in lines) == 3 * setups, done.stdout
    assert sum("worker exit codes after SIGTERM: [0" in line for line in lines) == setups
