"""What every runner shares: a scratch folder, output cut into lines, killing processes."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections import deque
from pathlib import Path

from engine.runners.job import LogCallback, LogLine

MAX_LINE_BYTES = 1 << 20
TAIL_LINES = 20


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
    """A private temporary directory of a runner pool (the zygote's socket and job folders)."""

    def __init__(self, prefix: str = "millrace-runners-"):
        self._prefix = prefix
        self._root: Path | None = None

    @property
    def root(self) -> Path:
        """The directory, created on first use."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix=self._prefix))
        return self._root

    def close(self) -> None:
        """Delete everything."""
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
