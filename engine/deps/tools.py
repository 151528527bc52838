"""Running the package tools (uv, bun): to the end, or with their output as progress lines.

A package's build and install code is user code: the tools run in the sandbox
(sandbox.tool_argv) with a clean environment (never the app's), seeing what they
install into and their download caches writable, and the index's local folders read-only.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from engine.errors import DependencyError

RESOLVE_TIMEOUT = 600.0
INSTALL_TIMEOUT = 1800.0
TAIL_LINES = 30

Progress = Callable[[str], None]
"""Receives each line a tool writes while it installs."""
PASSED_ON = ("http_proxy", "https_proxy", "no_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
             "ALL_PROXY", "SSL_CERT_DIR", "SSL_CERT_FILE")
"""What of this process's environment reaches a tool: how to reach the registries."""
USER_CONFIG = (".npmrc", ".bunfig.toml")


@dataclass(frozen=True)
class Place:
    """What a tool sees of the host besides the system: read-only and writable paths."""

    writable: tuple[str, ...] = ()
    readable: tuple[str, ...] = ()


def tool_env(extra: dict[str, str]) -> dict[str, str]:
    """The tool's whole environment: the sandbox's clean one, the proxies and `extra`."""
    from engine.runners.sandbox import clean_env

    home = str(Path.home())
    passed = {name: os.environ[name] for name in PASSED_ON if os.environ.get(name)}
    return {**clean_env(), "HOME": home, **passed, **extra}


def tool_argv(argv: list[str], place: Place) -> list[str]:
    """The tool's command line in the sandbox (a user's registry settings readable)."""
    from engine.runners.sandbox import SandboxUnavailable, tool_argv as sandboxed

    home = Path.home()
    certificates = [os.environ[name] for name in ("SSL_CERT_FILE", "SSL_CERT_DIR") if os.environ.get(name)]
    readable = [*place.readable, *(str(home / name) for name in USER_CONFIG), *certificates]
    try:
        return sandboxed(argv, writable=list(place.writable), readable=readable)
    except SandboxUnavailable as exc:
        raise DependencyError(f"dependencies are not installed without a sandbox: {exc}") from None


def run_tool(argv: list[str], *, env: dict[str, str], place: Place, stdin: str | None = None,
             timeout: float = RESOLVE_TIMEOUT) -> tuple[int, str, str]:
    """Run a tool to its end in `place.writable[0]`: (exit code, stdout, stderr)."""
    try:
        done = subprocess.run(tool_argv(argv, place), input=stdin, capture_output=True, text=True,
                              env=tool_env(env), cwd=place.writable[0], timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DependencyError(f"{Path(argv[0]).name} did not finish within {timeout:g} s") from None
    except OSError as exc:
        raise DependencyError(f"cannot run {argv[0]}: {exc}") from None
    return done.returncode, done.stdout, done.stderr


async def stream_tool(argv: list[str], *, env: dict[str, str], place: Place, progress: Progress | None,
                      timeout: float = INSTALL_TIMEOUT) -> tuple[int, str]:
    """Run a tool in `place.writable[0]`, handing each output line to `progress`: (exit
    code, its last lines). Cancelled or out of time, the tool is killed before this returns.
    """
    process = await asyncio.create_subprocess_exec(
        *tool_argv(argv, place), env=tool_env(env), cwd=place.writable[0], stdin=asyncio.subprocess.DEVNULL,
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
