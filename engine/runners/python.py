"""Python 3 runner: each job runs in a child forked from a warm zygote process.

The zygote (python_zygote.py) is a separate interpreter, started with the engine's own
`sys.executable`, that has already imported the common runtime; forking it is far
cheaper than starting Python. Per job the engine connects to the zygote's socket and
hands the forked child the job plus the write ends of two pipes, which become the
child's stdout and stderr: the engine reads them itself, so every line arrives live,
from `print` as much as from a C library or a subprocess. The child reports its pid,
then main's result or error. When the job ends (result, error, timeout or cancel) the
child's process group is killed, so nothing the script started outlives its step; a
child that dies without a result is explained by its exit status, which the zygote reports.
"""

from __future__ import annotations

import array
import asyncio
import json
import os
import socket
import struct
import subprocess
import sys
import time
from collections import OrderedDict
from pathlib import Path

from engine.runners.job import (
    LogCallback,
    ScriptJob,
    ScriptOutcome,
    failure,
    memory_limit_mb,
    script_env,
    timeout_message,
    too_large_message,
)
from engine.runners.process import LineSplitter, Scratch, describe_exit, kill_group

ZYGOTE_FILE = Path(__file__).with_name("python_zygote.py")
ZYGOTE_START_TIMEOUT = 30.0
EXIT_REPORT_WAIT = 2.0
STOP_GRACE = 5.0
# Children kept forked and waiting, so jobs (even two at once) never wait for a fork.
DEFAULT_SPARES = 2
HEADER = struct.Struct(">I")
FRAME = struct.Struct(">cI")
READ_CHUNK = 1 << 18
# Error frames are small; anything but a result frame larger than this is a broken child.
ERROR_FRAME_LIMIT = 1 << 20


class Zygote:
    """The warm interpreter process, its socket, and the exit codes it reports.

    The process is a plain `subprocess.Popen` whose control channel (its stdout) is
    read with the event loop's `add_reader`, so nothing of it belongs to an event loop
    for good: a zygote started on a loop that has since closed is still stopped cleanly.
    """

    def __init__(self, scratch: Scratch, spares: int):
        self.socket_path = str(scratch.root / "zygote.sock")
        self.workroot = str(scratch.root)
        self.spares = spares
        self.process: subprocess.Popen | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._reading = False
        self._lines = bytearray()
        self._ready: asyncio.Future | None = None
        self._exits: OrderedDict[int, int] = OrderedDict()
        self._waiters: dict[int, asyncio.Future] = {}

    @property
    def alive(self) -> bool:
        """Whether the zygote runs and serves the current event loop."""
        return (
            self.process is not None
            and self.process.poll() is None
            and self._reading
            and self.loop is asyncio.get_running_loop()
        )

    async def start(self) -> None:
        """Start the zygote and wait until it listens."""
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        self.loop = asyncio.get_running_loop()
        self._ready = self.loop.create_future()
        self.process = subprocess.Popen(
            [sys.executable, str(ZYGOTE_FILE), self.socket_path, self.workroot, str(self.spares)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            start_new_session=True,  # a Ctrl-C at the terminal is the engine's to handle
        )
        control = self.process.stdout.fileno()
        os.set_blocking(control, False)
        self.loop.add_reader(control, self._readable, control)
        self._reading = True
        try:
            said = await asyncio.wait_for(asyncio.shield(self._ready), ZYGOTE_START_TIMEOUT)
        except TimeoutError:
            said = b"nothing"
        if said != b"ready":
            await self.stop()
            raise RuntimeError(f"the Python zygote failed to start (said {said!r})")

    def _readable(self, fd: int) -> None:
        try:
            data = os.read(fd, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._stop_reading()
            return
        self._lines += data
        *lines, rest = self._lines.split(b"\n")
        self._lines = bytearray(rest)
        for line in lines:
            self._on_line(line.strip())

    def _on_line(self, line: bytes) -> None:
        """Take in one control line: `ready`, or `exit PID CODE` for a reaped child."""
        if self._ready is not None and not self._ready.done():
            self._ready.set_result(line)
            return
        parts = line.split()
        if len(parts) != 3 or parts[0] != b"exit":
            return
        pid, code = int(parts[1]), int(parts[2])
        waiter = self._waiters.pop(pid, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(code)
        else:
            self._exits[pid] = code
            while len(self._exits) > 1000:  # reports nobody asked for
                self._exits.popitem(last=False)

    def _stop_reading(self) -> None:
        """The control channel ended (or is given up): nothing more will be reported."""
        if self._reading:
            self._reading = False
            self.loop.remove_reader(self.process.stdout.fileno())  # no-op on a closed loop
        for future in [self._ready, *self._waiters.values()]:
            if future is not None and not future.done() and not future.get_loop().is_closed():
                future.set_result(None)

    async def exit_code(self, pid: int) -> int | None:
        """How child `pid` ended (negative: signal), or None if that is not known."""
        if pid in self._exits:
            return self._exits.pop(pid)
        if not self._reading:
            return None
        waiter = self._waiters.setdefault(pid, asyncio.get_running_loop().create_future())
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), EXIT_REPORT_WAIT)
        except TimeoutError:
            return None
        finally:
            self._waiters.pop(pid, None)

    def forget(self, pid: int) -> None:
        """Drop what is known of a child whose job has ended."""
        self._exits.pop(pid, None)

    async def stop(self) -> None:
        """Ask the zygote to exit (closing its stdin) and wait for it; kill it if it lingers."""
        process = self.process
        if process is None:
            return
        self._stop_reading()
        process.stdin.close()
        deadline = time.monotonic() + STOP_GRACE
        while process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if process.poll() is None:
            kill_group(process.pid)
            process.wait()
        process.stdout.close()
        self.process = None


class PythonRunner:
    """Runs "python3" jobs in children forked from one warm zygote."""

    def __init__(self, scratch: Scratch, max_result_bytes: int, spares: int = DEFAULT_SPARES):
        self._scratch = scratch
        self._max_result_bytes = max_result_bytes
        self._spares = spares
        self._zygote: Zygote | None = None
        self._starting: asyncio.Lock | None = None

    async def run(self, job: ScriptJob, on_log: LogCallback | None) -> ScriptOutcome:
        """Run one job to its end; the outcome holds main's result or the error."""
        payload = json.dumps({
            "content": job.content,
            "args": job.args,
            "env": script_env(job),
            "cwd": job.cwd,
            "memory_mb": memory_limit_mb(job),
            "max_result_bytes": self._max_result_bytes,
        }).encode()
        zygote, sock = await self._connect()
        session = _Session(sock, zygote, on_log, self._max_result_bytes)
        outcome = await session.run(payload, job.timeout)
        if session.pid is None:
            # The connection broke before any child took the job (a zygote that just
            # died): nothing of the script ran, so it is safe to try once more.
            zygote, sock = await self._connect(stale=zygote)
            session = _Session(sock, zygote, on_log, self._max_result_bytes)
            outcome = await session.run(payload, job.timeout)
        return outcome

    async def _connect(self, stale: Zygote | None = None) -> tuple[Zygote, socket.socket]:
        """A connection to a live zygote, (re)starting it when needed or `stale`."""
        for _attempt in range(2):
            zygote = await self._ensure_zygote(stale)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                await asyncio.get_running_loop().sock_connect(sock, zygote.socket_path)
                return zygote, sock
            except (ConnectionRefusedError, FileNotFoundError):
                sock.close()
                stale = zygote
        raise RuntimeError("cannot reach the Python zygote after restarting it")

    async def _ensure_zygote(self, stale: Zygote | None) -> Zygote:
        """The live zygote; a new one if there is none, it died, or it is `stale`."""
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            current = self._zygote
            if current is not None and (current is stale or not current.alive):
                await self._zygote.stop()
                self._zygote = None
            if self._zygote is None:
                zygote = Zygote(self._scratch, self._spares)
                await zygote.start()
                self._zygote = zygote
            return self._zygote

    async def close(self) -> None:
        """Stop the zygote."""
        if self._zygote is not None:
            await self._zygote.stop()
            self._zygote = None
        self._starting = None


class _Session:
    """One job's conversation with its forked child: its socket and its two pipes."""

    def __init__(self, sock: socket.socket, zygote: Zygote, on_log: LogCallback | None,
                 max_result_bytes: int):
        self.sock, self.zygote, self.max_result_bytes = sock, zygote, max_result_bytes
        self.loop = asyncio.get_running_loop()
        self.frames = bytearray()
        self.splitters: dict[int, LineSplitter] = {}
        self.pending: list[tuple[int, bytes]] = []
        self.open_fds: set[int] = set()
        self.wake: asyncio.Future | None = None
        self.pid: int | None = None
        self.timed_out = False
        self.outcome: ScriptOutcome | None = None
        self.on_log = on_log

    async def run(self, payload: bytes, timeout: float | None) -> ScriptOutcome:
        """Send the job, then relay output until the child answers, dies or times out."""
        timer = None
        if timeout is not None:
            timer = self.loop.call_later(timeout, self._time_out)
        try:
            await self._send(payload)
            while self.outcome is None:
                await self._next_event()
                self._process()
                if self.outcome is None:
                    await self._check_end(timeout)
            return self.outcome
        finally:
            if timer is not None:
                timer.cancel()
            if self.pid is not None:
                kill_group(self.pid)  # nothing the script started outlives its run
            self._close()

    async def _send(self, payload: bytes) -> None:
        pipes = [os.pipe(), os.pipe()]
        for (read_fd, _), stream in zip(pipes, ("stdout", "stderr")):
            os.set_blocking(read_fd, False)
            self.splitters[read_fd] = LineSplitter(stream, self.on_log)
        self._watch(self.sock.fileno())
        for read_fd, _ in pipes:
            self._watch(read_fd)
        write_fds = [write_fd for _, write_fd in pipes]
        try:
            ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", write_fds))]
            self.sock.sendmsg([HEADER.pack(len(payload))], ancillary)
        finally:
            for fd in write_fds:
                os.close(fd)  # the child holds them now; their closing is our EOF
        await self.loop.sock_sendall(self.sock, payload)

    def _watch(self, fd: int) -> None:
        self.open_fds.add(fd)
        self.loop.add_reader(fd, self._readable, fd)

    def _readable(self, fd: int) -> None:
        try:
            data = self.sock.recv(READ_CHUNK) if fd == self.sock.fileno() else os.read(fd, READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        self.pending.append((fd, data))
        if not data:
            self._unwatch(fd)
        self._wake()

    def _unwatch(self, fd: int) -> None:
        if fd in self.open_fds:
            self.open_fds.discard(fd)
            self.loop.remove_reader(fd)

    def _wake(self) -> None:
        if self.wake is not None and not self.wake.done():
            self.wake.set_result(None)

    def _time_out(self) -> None:
        self.timed_out = True
        self._wake()

    async def _next_event(self) -> None:
        # Before the child has said its pid a timeout can only wait for it, to kill it.
        if not self.pending and not (self.timed_out and self.pid is not None):
            self.wake = self.loop.create_future()
            await self.wake
            self.wake = None

    def _process(self) -> None:
        """Turn the bytes read so far into log lines and frames, output first."""
        pending, self.pending = self.pending, []
        # Output the child wrote before a frame can be read after it in the same round;
        # taking in pipe data first keeps the outcome's final drain from missing any.
        pending.sort(key=lambda event: event[0] not in self.splitters)
        for fd, data in pending:
            splitter = self.splitters.get(fd)
            if splitter is None:
                self.frames += data
                self._read_frames()
            elif data:
                splitter.feed(data)
            else:
                splitter.close()

    def _read_frames(self) -> None:
        while self.outcome is None and len(self.frames) >= FRAME.size:
            kind, size = FRAME.unpack_from(self.frames)
            limit = self.max_result_bytes if kind == b"R" else ERROR_FRAME_LIMIT
            if size > limit:
                self._finish(failure("ResultTooLarge", too_large_message(size, limit)))
                return
            if len(self.frames) < FRAME.size + size:
                return
            payload = bytes(self.frames[FRAME.size:FRAME.size + size])
            del self.frames[:FRAME.size + size]
            self._on_frame(kind, payload)

    def _on_frame(self, kind: bytes, payload: bytes) -> None:
        if kind == b"P":
            self.pid = int(payload)
            if self.timed_out:
                kill_group(self.pid)
        elif kind == b"R":
            self._finish(ScriptOutcome(ok=True, result=json.loads(payload)))
        elif kind == b"E":
            self._finish(ScriptOutcome(ok=False, error=json.loads(payload)))

    def _finish(self, outcome: ScriptOutcome) -> None:
        """Settle the outcome after taking in all output the child wrote before it."""
        self.outcome = outcome
        for fd, splitter in self.splitters.items():
            self._drain(fd, splitter)
        if self.pid is not None:
            self.zygote.forget(self.pid)

    def _drain(self, fd: int, splitter: LineSplitter) -> None:
        while fd in self.open_fds:
            try:
                data = os.read(fd, READ_CHUNK)
            except BlockingIOError:
                break
            if not data:
                self._unwatch(fd)
                break
            splitter.feed(data)
        splitter.close()

    async def _check_end(self, timeout: float | None) -> None:
        """The job ends without an answer when it timed out or its process is gone."""
        if self.timed_out and self.pid is not None:
            kill_group(self.pid)
            self._finish(failure("TimeoutError", timeout_message(timeout or 0.0)))
        elif self.sock.fileno() not in self.open_fds and self.outcome is None:
            self._finish(await self._crash())

    async def _crash(self) -> ScriptOutcome:
        if self.pid is None:
            return failure("ScriptCrashed", "the script process ended before it started")
        code = await self.zygote.exit_code(self.pid)
        how = "ended" if code is None else describe_exit(code)
        return failure("ScriptCrashed", f"the script process {how} before main returned")

    def _close(self) -> None:
        for fd in list(self.open_fds):
            self._unwatch(fd)
        for fd in self.splitters:
            os.close(fd)
        self.sock.close()
