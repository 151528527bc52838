"""What every runner shares: scratch directories, output lines, killing a process group.

`run_process` runs one script process (bash, bun) to its end: output streams to the
log callback line by line while it runs, and a timeout kills its whole process group.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from engine.runners.job import LogCallback, LogLine

MAX_LINE_BYTES = 1 << 20
TAIL_LINES = 20
# Output still arriving after the script's process ended (a leftover background process
# holding the pipe) is awaited this long before the run is reported.
DRAIN_GRACE = 0.5


class LineSplitter:
    """Cuts one output stream into log lines and hands each over as soon as it ends.

    Keeps the last lines (for error messages) and the last non-empty line (bash's
    result). A line longer than MAX_LINE_BYTES is cut into several, never dropped.
    """

    def __init__(self, stream: str, on_log: LogCallback | None):
        self.stream = stream
        self.on_log = on_log
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.last_line = ""
        self._pending = bytearray()

    def feed(self, data: bytes) -> None:
        """Take more bytes of output; emit every line they complete."""
        self._pending += data
        start = 0
        while (end := self._pending.find(b"\n", start)) >= 0:
            self._emit(self._pending[start:end])
            start = end + 1
        del self._pending[:start]
        while len(self._pending) > MAX_LINE_BYTES:
            self._emit(self._pending[:MAX_LINE_BYTES])
            del self._pending[:MAX_LINE_BYTES]

    def close(self) -> None:
        """The stream ended: emit what is left of an unfinished last line."""
        if self._pending:
            self._emit(self._pending)
            self._pending.clear()

    def _emit(self, raw: bytes | bytearray) -> None:
        line = bytes(raw).decode("utf-8", "replace").removesuffix("\r")
        self.tail.append(line)
        if line.strip():
            self.last_line = line
        if self.on_log is not None:
            self.on_log(LogLine(ts=time.time(), stream=self.stream, line=line))


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by `pid` (the process itself if it has none)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    except PermissionError:
        kill_pid(pid)


def kill_pid(pid: int) -> None:
    """SIGKILL one process, ignoring one that is already gone."""
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def describe_exit(code: int) -> str:
    """Say in words how a process ended, from its exit code (negative: signal)."""
    if code >= 0:
        return f"exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    detail = signal.strsignal(-code) or name
    hint = ", often the memory limit or the system running out of memory" if -code == 9 else ""
    return f"was killed by {name} ({detail.lower()}{hint})"


def stderr_tail(splitter: LineSplitter, count: int = 5) -> str:
    """The last `count` lines of a stream, to quote in an error message."""
    lines = list(splitter.tail)[-count:]
    return "\n".join(lines)


class Scratch:
    """A private temporary directory holding one subdirectory per running job."""

    def __init__(self, prefix: str = "millrace-runners-"):
        self._prefix = prefix
        self._root: Path | None = None

    @property
    def root(self) -> Path:
        """The directory, created on first use."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix=self._prefix))
        return self._root

    def job_dir(self) -> Path:
        """A fresh, empty directory for one job."""
        return Path(tempfile.mkdtemp(prefix="job-", dir=self.root))

    def remove(self, path: Path | str) -> None:
        """Delete a job directory and all the script left in it."""
        shutil.rmtree(path, ignore_errors=True)

    def close(self) -> None:
        """Delete everything."""
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None


@dataclass
class Finished:
    """How a script process ended."""

    returncode: int
    timed_out: bool
    stdout: LineSplitter
    stderr: LineSplitter


async def run_process(
    argv: list[str],
    *,
    cwd: str,
    env: dict[str, str],
    timeout: float | None,
    on_log: LogCallback | None,
) -> Finished:
    """Run `argv` in its own process group, streaming its output as log lines.

    The run ends when the process exits (or the timeout strikes), not when its pipes
    close: what the script left running in the background is killed with its group,
    and output still in flight is awaited for DRAIN_GRACE at most.

    Args:
        argv: the program and its arguments.
        cwd: working directory.
        env: the whole environment of the process.
        timeout: seconds before the process group is killed; None for no limit.
        on_log: receives each stdout and stderr line as it ends.

    Returns:
        The exit code (negative: killed by that signal), whether the timeout struck,
        and both streams' splitters (their tails and last lines).
    """
    loop = asyncio.get_running_loop()
    out, err = LineSplitter("stdout", on_log), LineSplitter("stderr", on_log)
    transport, output = await loop.subprocess_exec(
        lambda: _Output(loop, {1: out, 2: err}), *argv, cwd=cwd, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, start_new_session=True,
    )
    pid, timed_out = transport.get_pid(), False
    try:
        try:
            # (Process.wait() would also wait for the pipes, which a leftover holds open.)
            await asyncio.wait_for(asyncio.shield(output.exited), timeout)
        except TimeoutError:
            timed_out = True
        kill_group(pid)  # also ends background processes the script left behind
        await output.exited
        await asyncio.wait([output.closed], timeout=DRAIN_GRACE)
    finally:
        if not output.exited.done():  # cancelled: the script must not outlive its run
            kill_group(pid)
            await asyncio.wait([output.exited], timeout=DRAIN_GRACE)
        transport.close()
    if output.error is not None:
        raise output.error  # on_log failed: an engine bug, not the script's
    return Finished(transport.get_returncode(), timed_out, out, err)


class _Output(asyncio.SubprocessProtocol):
    """Feeds a process's stdout (fd 1) and stderr (fd 2) to their line splitters."""

    def __init__(self, loop: asyncio.AbstractEventLoop, splitters: dict[int, LineSplitter]):
        self.splitters = splitters
        self.open = set(splitters)
        self.exited = loop.create_future()
        self.closed = loop.create_future()
        """Done when both pipes have ended."""
        self.error: Exception | None = None
        """What the log callback raised first, to raise from run_process."""

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self._hand_over(self.splitters[fd].feed, data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd in self.open:
            self.open.discard(fd)
            self._hand_over(self.splitters[fd].close)
        if not self.open and not self.closed.done():
            self.closed.set_result(None)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)

    def _hand_over(self, step: Callable[..., None], *args: bytes) -> None:
        # Raising here would make asyncio close the pipe and only log the error.
        try:
            step(*args)
        except Exception as exc:  # kept, and raised by run_process
            if self.error is None:
                self.error = exc
