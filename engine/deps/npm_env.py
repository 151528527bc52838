"""npm dependencies of bun and Deno steps, with bun: packages → a lock, a lock → node_modules.

One installation serves both runtimes: bun finds the packages in the `node_modules`
folder beside the script, and Deno does too (`--node-modules-dir=manual`), `npm:`
specifiers included. Packages' install scripts never run.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from engine.deps.locks import NPM, Lock, npm_lock
from engine.deps.tools import Place, Progress, run_tool, stream_tool
from engine.errors import DependencyError

INSTALL_FLAGS = ("--no-progress", "--ignore-scripts", "--production", "--no-save", "--backend", "copyfile")
"""Copies, not links: bun's cache and the environment are separate mounts in its sandbox."""


def find_bun() -> str:
    """bun (its real path), which installs the packages (see engine/runners/bun.py)."""
    from engine.runners.bun import INSTALL_HINT, find_bun as locate

    found = locate()
    if found is None:
        raise DependencyError(INSTALL_HINT)
    return os.path.realpath(found)


def _place(folder: Path, bun_cache: Path) -> Place:
    return Place(writable=(str(folder), str(bun_cache)), readable=(os.path.dirname(find_bun()),))


def _env(bun_cache: Path) -> dict[str, str]:
    return {"BUN_INSTALL_CACHE_DIR": str(bun_cache), "NO_COLOR": "1", "DO_NOT_TRACK": "1"}


def resolve(dependencies: dict[str, str], bun_cache: Path) -> Lock:
    """Resolve npm packages (name → version or range) to a lock.

    Raises:
        DependencyError: a package does not exist or no version fits; quotes bun.
    """
    with tempfile.TemporaryDirectory(prefix="millrace-npm-") as folder:
        package = {"dependencies": dict(sorted(dependencies.items()))}
        (Path(folder) / "package.json").write_text(json.dumps(package))
        argv = [find_bun(), "install", "--lockfile-only", "--no-progress", "--ignore-scripts"]
        code, out, err = run_tool(argv, env=_env(bun_cache), place=_place(Path(folder), bun_cache))
        lockfile = Path(folder) / "bun.lock"
        if code != 0 or not lockfile.exists():
            wanted = ", ".join(f"{name}@{spec}" for name, spec in package["dependencies"].items())
            raise DependencyError(f"cannot resolve the npm dependencies {wanted}: {_said(err or out)}")
        return npm_lock(package, lockfile.read_text())


async def install(lock: Lock, target: Path, bun_cache: Path, progress: Progress | None) -> None:
    """Install the lock's packages into `target`/node_modules.

    Raises:
        DependencyError: a package cannot be had; quotes bun.
    """
    assert lock.kind == NPM
    package, lockfile = lock.parts()
    (target / "package.json").write_text(json.dumps(package, indent=2))
    flags = list(INSTALL_FLAGS)
    if lockfile:
        (target / "bun.lock").write_text(lockfile)
        flags.append("--frozen-lockfile")
    code, tail = await stream_tool([find_bun(), "install", *flags], env=_env(bun_cache),
                                   place=_place(target, bun_cache), progress=progress)
    if code != 0:
        raise DependencyError(f"cannot install the npm dependencies {', '.join(lock.pinned)}: {_said(tail)}")
    (target / "node_modules").mkdir(exist_ok=True)


def _said(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith("error")]
    return "\n".join(errors or lines[-10:]) or "bun failed without saying why"
