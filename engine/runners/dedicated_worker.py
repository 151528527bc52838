"""One dedicated worker, the engine's side: a warm job process of the zygote that calls the
script's `main` once per call (inside/dedicated.py), in the sandbox like any job.

The worker is a spare of the zygote (its own namespaces, cgroup, folder, dropped
privileges) that takes a job marked "dedicated" and then keeps its connection: each call
sends the job's args and environment and waits for its ``R``/``E`` frame. Its stdout and
stderr pipes last as long as it does; calls are one at a time, so what they carry between
a call's start and its frame is that call's output.
"""

from __future__ import annotations

import array
import asyncio
import json
import os
import socket
import time
from typing import Any

from engine.runners.cgroups import JobGroup
from engine.runners.process import LineSplitter, kill_group, kill_pid
from engine.runners.job import LogCallback
from engine.runners.zygote import (
    CREDENTIALS, ERROR_FRAME_LIMIT, FRAME, HEADER, READ_CHUNK, ZYGOTE_START_TIMEOUT, Ended, Launch, ZygoteJobs,
)
from engine.runners.zygotes import Flavour

RSS_EVERY = 0.25
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
EXIT_GRACE = 1.0
"""How long a worker that hung up is given for the zygote to report how it ended."""


class WorkerGone(Exception):
    """The worker could not be started (no zygote, or it hung up before taking the job)."""


class DedicatedWorker:
    """A warm job process and its connection; `call` runs the script's main once more."""

    def __init__(self, jobs: ZygoteJobs):
        self.jobs = jobs
        self.loop = asyncio.get_running_loop()
        self.sock: socket.socket | None = None
        self.zygote: Any = None
        self.keeper: int | None = None
        self.init: int | None = None
        self.sender: int | None = None
        """The job process's pid as the engine sees it (from the connection's credentials)."""
        self.group: JobGroup | None = None
        self.exit: asyncio.Future | None = None
        self.splitters: dict[int, LineSplitter] = {}
        self.max_result_bytes = 0
        self._buffer = bytearray()
        self._waiter: asyncio.Future | None = None
        self._too_large: int | None = None
        self._rss_checked = 0.0
        self.closed = False

    @property
    def alive(self) -> bool:
        """Whether the worker can take another call."""
        return (not self.closed and self.loop is asyncio.get_running_loop()
                and not (self.exit is not None and self.exit.done()))

    async def start(self, launch: Launch, flavour: Flavour | None) -> None:
        """Take a spare of the zygote of `flavour` and give it the dedicated job.

        Raises:
            WorkerGone: no spare took the job.
        """
        self.max_result_bytes = launch.max_result_bytes
        self.zygote, self.sock = await self.jobs._connect(flavour)
        self.jobs.zygotes.busy(self.zygote, +1)
        self.loop.add_reader(self.sock.fileno(), self._readable)
        frame = await self._next_frame(ZYGOTE_START_TIMEOUT)
        if frame is None or frame[0] != b"P":
            raise WorkerGone("the sandbox's zygote did not hand over a process for the dedicated worker")
        self.keeper, self.init = (int(word) for word in frame[1].split())
        self.exit = self.zygote.exit_of(self.keeper)
        self.exit.add_done_callback(self._on_exit)
        cgroups = self.jobs.cgroups
        if cgroups is not None:
            self.group = cgroups.group(self.keeper)
            if launch.memory_mb != self.zygote.memory_mb:
                cgroups.set_memory(self.group, launch.memory_mb)
        await self._send_job(json.dumps(launch.payload).encode())

    async def _send_job(self, payload: bytes) -> None:
        """Send the job with the write ends of the worker's stdout and stderr pipes."""
        pipes = [os.pipe(), os.pipe()]
        for (read_fd, _), stream in zip(pipes, ("stdout", "stderr")):
            os.set_blocking(read_fd, False)
            self.splitters[read_fd] = LineSplitter(stream, None)
            self.loop.add_reader(read_fd, self._output, read_fd)
        write_fds = [write_fd for _, write_fd in pipes]
        try:
            ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", write_fds))]
            self.sock.sendmsg([HEADER.pack(len(payload))], ancillary)
        finally:
            for fd in write_fds:
                os.close(fd)  # the worker holds them now
        await self.loop.sock_sendall(self.sock, payload)

    async def call(self, payload: dict[str, Any], timeout: float, on_log: LogCallback | None) -> Ended:
        """Run main once with this call's args and environment; how the call ended.

        A call that times out, is cancelled (its run was), or whose worker dies, leaves the
        worker closed: its answer, if it ever came, would be taken for the next call's.
        """
        for splitter in self.splitters.values():
            splitter.on_log = on_log
        ended = Ended(started=True)
        data = json.dumps(payload).encode()
        try:
            await self.loop.sock_sendall(self.sock, HEADER.pack(len(data)) + data)
            frame = await self._next_frame(timeout)
        except TimeoutError:
            ended.timed_out = True
            frame = None
            self.kill()
        except OSError:
            frame = None
        except BaseException:
            self.kill()
            raise
        self._drain()
        if frame is not None:
            ended.frame = (frame[0], json.loads(frame[1]))
        elif not ended.timed_out:
            await self._settle(ended)
        for splitter in self.splitters.values():
            splitter.on_log = None
        return ended

    async def _settle(self, ended: Ended) -> None:
        """Fill in how a worker that hung up mid-call ended: too large a result, its exit, OOM."""
        ended.too_large = self._too_large
        if self.exit is not None and ended.too_large is None:
            await asyncio.wait([self.exit], timeout=EXIT_GRACE)
            if self.exit.done():
                ended.exit_code = self.exit.result()
        if self.group is not None:
            ended.out_of_memory = self.jobs.cgroups.out_of_memory(self.group)
        self.kill()

    async def _next_frame(self, timeout: float) -> tuple[bytes, bytes] | None:
        """The next frame from the worker; None when it hung up (or sent too large a result)."""
        frame = self._parse()
        if frame is not None or self.closed:
            return frame
        self._waiter = self.loop.create_future()
        try:
            return await asyncio.wait_for(self._waiter, timeout)
        finally:
            self._waiter = None

    def _readable(self) -> None:
        try:
            data, ancillary, _flags, _addr = self.sock.recvmsg(READ_CHUNK, socket.CMSG_SPACE(CREDENTIALS.size))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, ancillary = b"", []
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and self.sender is None:
                self.sender = CREDENTIALS.unpack(value[:CREDENTIALS.size])[0]
        if not data:
            self.loop.remove_reader(self.sock.fileno())
            self._hang_up()
            return
        self._buffer += data
        if self._waiter is not None and not self._waiter.done():
            frame = self._parse()
            if frame is not None or self.closed:
                self._waiter.set_result(frame)

    def _parse(self) -> tuple[bytes, bytes] | None:
        """Take one whole frame off the buffer, or None. A frame over its limit closes the worker
        (the rest of the stream cannot be trusted to line up)."""
        if len(self._buffer) < FRAME.size:
            return None
        kind, size = FRAME.unpack_from(self._buffer)
        if size > (self.max_result_bytes if kind == b"R" else ERROR_FRAME_LIMIT):
            self._too_large = size if kind == b"R" else None
            self.kill()
            return None
        if len(self._buffer) < FRAME.size + size:
            return None
        frame = (kind, bytes(self._buffer[FRAME.size:FRAME.size + size]))
        del self._buffer[:FRAME.size + size]
        return frame

    def _on_exit(self, _future: asyncio.Future) -> None:
        self._hang_up()

    def _hang_up(self) -> None:
        """The worker is gone: wake the call waiting for it."""
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _output(self, fd: int) -> None:
        try:
            data = os.read(fd, READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            self.splitters[fd].feed(data)
        else:
            self.loop.remove_reader(fd)

    def _drain(self) -> None:
        """Take in what the call wrote before its frame (the worker flushed it first)."""
        for fd, splitter in self.splitters.items():
            while True:
                try:
                    data = os.read(fd, READ_CHUNK)
                except (BlockingIOError, InterruptedError, OSError):
                    break
                if not data:
                    break
                splitter.feed(data)
            splitter.close()

    def grown_past(self, limit_mb: float) -> bool:
        """Whether the worker's resident memory is over `limit_mb`, looked at most every
        RSS_EVERY seconds (a loop's calls come far more often than memory grows)."""
        now = time.monotonic()
        if now - self._rss_checked < RSS_EVERY:
            return False
        self._rss_checked = now
        try:
            with open(f"/proc/{self.sender}/statm") as statm:
                return int(statm.read().split()[1]) * PAGE_SIZE > limit_mb * 2**20
        except (OSError, ValueError, IndexError):
            return False

    def kill(self) -> None:
        """End the worker's process (PID 1 of its namespace: everything it started dies too)."""
        self.closed = True
        if self.init is not None and not (self.exit is not None and self.exit.done()):
            kill_pid(self.init)
        for pid in (self.keeper, self.sender):  # without the sandbox, what is in their groups
            if pid is not None:
                kill_group(pid)

    def close(self) -> None:
        """Kill the worker and let go of its connection, pipes, cgroup and zygote."""
        self.kill()
        same_loop = not self.loop.is_closed()
        for fd in list(self.splitters):
            if same_loop:
                self.loop.remove_reader(fd)
            os.close(fd)
        self.splitters.clear()
        if self.sock is not None:
            if same_loop:
                self.loop.remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None
        if self.group is not None:
            self.jobs.cgroups.release(self.group)
            self.group = None
        if self.zygote is not None:
            if self.keeper is not None:
                self.zygote.forget(self.keeper)
            self.jobs.zygotes.busy(self.zygote, -1)
            self.zygote = None
