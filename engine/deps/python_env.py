"""Python dependencies with uv: requirements → a lock (resolve), a lock → a folder of packages (install).

uv comes from PyPI (requirements.txt) and takes its packages from the index pip is
configured with (index.py). An environment is a `--target` folder of exactly the
lock's packages, byte-compiled, that the step's zygote puts first on `sys.path`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from engine.deps.index import IndexConfig
from engine.deps.locks import PYTHON, Lock, python_lock
from engine.deps.tools import Place, Progress, run_tool, stream_tool
from engine.errors import DependencyError

UNWRAPPED = {"COLUMNS": "10000", "NO_COLOR": "1"}
"""uv wraps its messages at the terminal's width: one line each reads better in a step's error."""
INSTALL_HINT = "uv is not installed: run `.venv/bin/pip install -r requirements.txt` (`make run` does it)"


def find_uv() -> str:
    """The uv executable (its real path): the `uv` package's, else uv on PATH."""
    try:
        from uv import find_uv_bin

        return os.path.realpath(find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found is None:
            raise DependencyError(INSTALL_HINT) from None
        return os.path.realpath(found)


def _python() -> str:
    from engine.runners.sandbox import python_executable

    return python_executable()


def resolve(requirements: tuple[str, ...], index: IndexConfig, uv_cache: Path) -> Lock:
    """Resolve requirements to exact versions for the Python scripts run on.

    Raises:
        DependencyError: a package does not exist, versions conflict, a build failed;
            the message names the requirements and quotes uv.
    """
    argv = [find_uv(), "pip", "compile", "-", "--python", _python(), "--no-header", "--no-annotate", "--quiet",
            "--cache-dir", str(uv_cache), *index.args]
    with tempfile.TemporaryDirectory(prefix="millrace-uv-") as folder:  # uv refuses to work inside its cache
        place = Place(writable=(folder, str(uv_cache)), readable=tuple(index.local_paths()))
        code, out, err = run_tool(argv, env={**index.env, **UNWRAPPED}, place=place,
                                  stdin="".join(f"{r}\n" for r in requirements))
    if code != 0:
        raise DependencyError(f"cannot resolve the Python dependencies {', '.join(requirements)}: "
                              f"{_said(err or out)}")
    pinned = [line.strip() for line in out.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return python_lock(pinned)


async def install(lock: Lock, target: Path, index: IndexConfig, uv_cache: Path, progress: Progress | None) -> None:
    """Install exactly the lock's packages (no others) into the empty folder `target`.

    Raises:
        DependencyError: a package cannot be had or built; the message quotes uv.
    """
    assert lock.kind == PYTHON
    wanted = target / "requirements.lock"
    wanted.write_text("".join(f"{line}\n" for line in lock.pinned))
    # Copies, not links: the cache and the environment are separate mounts in the tool's sandbox.
    argv = [find_uv(), "pip", "install", "--target", str(target), "--no-deps", "--compile-bytecode", "--link-mode",
            "copy", "--python", _python(), "--cache-dir", str(uv_cache), "-r", str(wanted), *index.args]
    place = Place(writable=(str(target), str(uv_cache)), readable=tuple(index.local_paths()))
    code, tail = await stream_tool(argv, env={**index.env, **UNWRAPPED}, place=place, progress=progress)
    wanted.unlink(missing_ok=True)
    if code != 0:
        raise DependencyError(f"cannot install the Python dependencies {', '.join(lock.pinned)}: {_said(tail)}")


def _said(text: str) -> str:
    """uv's error, without its colour codes and blank lines."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).rstrip() for line in text.strip().splitlines()]
    return "\n".join(line for line in lines if line.strip()) or "uv failed without saying why"

