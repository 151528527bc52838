"""Every engine module imports on its own, first thing in a fresh interpreter.

An import cycle between two modules only shows when one of them is the first to be
imported; the usual entry points (`engine.engine`, the CLI) may happen to import them
in the one order that works. So each module is imported alone, in a child forked from
an interpreter that has loaded no engine module yet (third-party libraries are
loaded before the fork, only to save each child the time of loading them again).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Programs run inside the sandbox (not imported by the engine), Alembic's migration scripts
# (Alembic loads them, in its own context), and `python -m engine`.
NOT_MODULES = ("engine.runners.inside.", "engine.store.migrations.env", "engine.store.migrations.versions.",
               "engine.__main__")

CHILDREN = r"""
import importlib, os, sys, traceback
import pydantic, sqlalchemy, sqlmodel, yaml  # noqa: F401  (loaded once, before the forks)

assert not [m for m in sys.modules if m == "engine" or m.startswith("engine.")]
failed = []
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        failed.append(name)
print("FAILED " + " ".join(failed) if failed else "OK")
"""


def engine_modules() -> list[str]:
    names = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if not name.startswith(NOT_MODULES):
            names.append(name)
    return names


def test_the_module_list_covers_the_executor():
    names = engine_modules()
    assert {"engine", "engine.executor.step", "engine.executor.suspend", "engine.worker"} <= set(names)
    assert not any(name.startswith("engine.runners.inside.") for name in names)


def test_every_engine_module_imports_alone_in_a_fresh_interpreter():
    done = subprocess.run([sys.executable, "-c", CHILDREN, *engine_modules()], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "OK", done.stdout + done.stderr
