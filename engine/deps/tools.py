"""Running the package tools (uv, bun): to the end, or with their output as progress lines."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections import deque
from pathlib import Path
from typing import Callable

from engine.errors import DependencyError

RESOLVE_TIMEOUT = 600.0
INSTALL_TIMEOUT = 1800.0
TAIL_LINES = 30

Progress = Callable[[str], None]
"""Receives each line a tool writes while it installs."""


def tool_env(extra: dict[str, str]) -> dict[str, str]:
    """The tool's environment: this process's (proxies, HOME) plus `extra`."""
    return {**os.environ, **extra}


def run_tool(argv: list[str], *, env: dict[str, str], cwd: Path | None = None, stdin: str | None = None,
             timeout: float = RESOLVE_TIMEOUT) -> tuple[int, str, str]:
    """Run a tool to its end: (exit code, stdout, stderr)."""
    try:
        done = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=tool_env(env), cwd=cwd,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DependencyError(f"{Path(argv[0]).name} did not finish within {timeout:g} s") from None
    except OSError as exc:
        raise DependencyError(f"cannot run {argv[0]}: {exc}") from None
    return done.returncode, done.stdout, done.stderr


async def stream_tool(argv: list[str], *, env: dict[str, str], cwd: Path | None, progress: Progress | None,
                      timeout: float = INSTALL_TIMEOUT) -> tuple[int, str]:
    """Run a tool, handing each output line to `progress`: (exit code, its last lines).

    Cancelled or out of time, the tool is killed before this returns.
    """
    process = await asyncio.create_subprocess_exec(
        *argv, env=tool_env(env), cwd=cwd, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    tail: deque[str] = deque(maxlen=TAIL_LINES)

    async def relay() -> None:
        async for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip()
            tail.append(line)
            if progress is not None and line:
                progress(line)

    try:
        await asyncio.wait_for(asyncio.gather(relay(), process.wait()), timeout)
    except TimeoutError:
        raise DependencyError(f"{Path(argv[0]).name} did not finish within {timeout:g} s") from None
    finally:
        if process.returncode is None:  # out of time or cancelled: nothing may run on
            process.kill()
            await process.wait()
    return process.returncode, "\n".join(tail)
