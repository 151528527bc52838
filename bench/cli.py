"""`python -m engine run` of a 1-step flow as a whole process: wall time, the CPU of the CLI
process itself and of its whole process tree (the sandbox check, the zygote, the job).

Given another checkout, runs it alternately with this one, so both see the same load
(wall times on a shared machine follow the load; the CPU rows move far less). Prints
the median, min–max and the ratio to issue 14's budget, and the load average.

Run from the project root: `.venv/bin/python bench/cli.py [REPEATS] [OTHER_TREE]`.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_engine import BUDGETS, sequential  # noqa: E402
from bench.figures import print_rows, row  # noqa: E402

REPEATS = 7
# `python -m engine run` plus a report of the process's own CPU when it ends.
BOOT = """import resource, runpy, sys
sys.argv = ["engine", "run", "one.json"]
try:
    runpy.run_module("engine", run_name="__main__", alter_sys=True)
finally:
    used = resource.getrusage(resource.RUSAGE_SELF)
    sys.stderr.write(f"\\nCLI_CPU {used.ru_utime + used.ru_stime}\\n")
"""


def run_once(tree: Path, folder: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds of the CLI process, CPU seconds of its whole tree."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("DATABASE_URL", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached by the first run
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run([str(tree / ".venv/bin/python"), "-c", BOOT], cwd=folder, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or done.stdout.strip() != "55":
        raise SystemExit(f"{tree}: the run failed ({done.returncode}): {done.stderr[-2000:]}")
    own = float(done.stderr.rsplit("CLI_CPU ", 1)[1])
    tree_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, own, tree_cpu


def main(repeats: int = REPEATS, other: str | None = None) -> list[dict]:
    trees = {"this tree": ROOT} | ({f"{other}": Path(other).resolve()} if other else {})
    samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in trees}
    loads = []
    with tempfile.TemporaryDirectory() as scratch:
        folders = {}
        for index, name in enumerate(trees):
            folders[name] = Path(scratch) / str(index)
            folders[name].mkdir()
            (folders[name] / "one.json").write_text(json.dumps(sequential(1)))
        for n in range(repeats + 1):  # the first round makes the databases and caches bytecode
            for name, tree in trees.items():
                measured = run_once(tree, folders[name])
                if n:
                    samples[name].append(measured)
            loads.append(os.getloadavg()[0])
    rows = []
    for name in trees:
        wall, own, whole = zip(*samples[name])
        rows += [row(f"CLI run, 1-step flow, wall ({name})", list(wall), BUDGETS["cli"]),
                 row("  CPU of the CLI process", list(own), None),
                 row("  CPU of its process tree", list(whole), None)]
    print(f"load average (1 min) during the runs: {min(loads):.1f}–{max(loads):.1f}")
    return rows


if __name__ == "__main__":
    print_rows(main(int(sys.argv[1]) if len(sys.argv) > 1 else REPEATS, sys.argv[2] if len(sys.argv) > 2 else None))
