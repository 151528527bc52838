"""The engine's side of the zygote: start it in the sandbox, hand it jobs, follow them to their end.

The zygote (engine/runners/inside/zygote.py) is a warm interpreter, started under
bubblewrap (sandbox.py) once per runner pool, and once per dependency lock in use with
that lock's packages loaded (zygotes.py), whose forked children run one job each:
Python in-process, bash and bun by exec. Per job the engine connects to the zygote's
socket; the child that takes the connection says who it is (``P``: the pid the zygote
knows its spare by and its namespace's init's, as the engine sees them; it is already in
its job's cgroup, made ahead, see cgroups.py), and the engine sends the job together with
the write ends of two pipes, which become the child's stdout and stderr: the engine reads them itself, so every line
arrives live. The job ends with a result or error frame (``R``/``E``), or when the
zygote reports that its spare exited (``exit PID CODE``); either way the engine then
kills the job's process, and with it (PID 1 of its namespace) every process it started.

The zygote is a plain `subprocess.Popen` whose control channel (its stdout) is read
with the event loop's `add_reader`, so nothing of it belongs to an event loop for good.
"""

from __future__ import annotations

import array
import asyncio
import json
import os
import socket
import struct
import subprocess
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from engine.runners import sandbox
from engine.runners.cgroups import Cgroups, JobGroup
from engine.runners.job import LogCallback, default_memory_mb
from engine.runners.process import LineSplitter, Scratch, kill_group, kill_pid
from engine.runners.sandbox import SandboxPolicy
from engine.runners.zygotes import DEFAULT, Flavour, ZygoteSet

ZYGOTE_START_TIMEOUT = 30.0
FLAVOURED_START_TIMEOUT = 300.0
"""A lock's zygote imports the job's packages first (a big one takes a while the first time)."""
STOP_GRACE = 5.0
STOP_POLL = 0.002
"""How often a stopping zygote is looked at: it exits within milliseconds, and a CLI run waits for it."""
DRAIN_GRACE = 0.5
DEFAULT_SPARES = 4
"""Spares each zygote keeps ready. Making one takes about 10 ms, mostly spent waiting in the
kernel (its move into a cgroup waits for a grace period) rather than computing, so with
two only, back-to-back and parallel steps waited for spares; an idle one holds about
3.5 MB of memory of its own."""
HEADER = struct.Struct(">I")
FRAME = struct.Struct(">cI")
CREDENTIALS = struct.Struct("iII")
"""struct ucred: pid, uid, gid."""
READ_CHUNK = 1 << 18
# Error frames are small; anything but a result frame larger than this is a broken child.
ERROR_FRAME_LIMIT = 1 << 20


@dataclass
class Ended:
    """How one job ended, for its runner to turn into an outcome."""

    frame: tuple[bytes, Any] | None = None
    """(b"R", result) or (b"E", error object), when the job sent one."""
    too_large: int | None = None
    """Size of a result frame over the limit (the frame itself was not read)."""
    exit_code: int | None = None
    """The job process's exit code (negative: signal), when known."""
    timed_out: bool = False
    out_of_memory: bool = False
    """The kernel killed a process of the job for breaking the job's memory cap."""
    started: bool = False
    """A child took the job (False: the connection broke first; nothing ran)."""
    stdout: LineSplitter = field(default_factory=lambda: LineSplitter("stdout", None))
    stderr: LineSplitter = field(default_factory=lambda: LineSplitter("stderr", None))


class Zygote:
    """The warm interpreter process, its socket, and the exit codes it reports."""

    def __init__(self, scratch: Scratch, spares: int, policy: SandboxPolicy, runtime: Path,
                 cgroups: Cgroups | None, flavour: Flavour | None = None):
        self.flavour = flavour
        self.name = DEFAULT if flavour is None else flavour.name
        self.socket_path = str(scratch.root / f"{self.name}.sock")
        self.scratch_root = str(scratch.root)
        self.spares, self.policy, self.runtime, self.cgroups = spares, policy, runtime, cgroups
        self.memory_mb = default_memory_mb()
        """The memory cap the spares' cgroups are made with."""
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

    def argv(self) -> list[str]:
        """The zygote's command line: under bubblewrap, unless the sandbox is off."""
        isolate = self.policy.enabled
        inside = sandbox.INSIDE_MOUNT if isolate else str(sandbox.INSIDE_DIR)
        work = sandbox.WORK_MOUNT if isolate else self.scratch_root
        # "pool" names the pool's scratch folder, so its processes can be told apart.
        config = {"pool": self.scratch_root, "socket": f"{work}/{self.name}.sock", "workroot": work, "spares": self.spares, "isolate": isolate,
                  "disk_mb": self.policy.disk_mb,
                  "cwd_root": [sandbox.host_tmp(), sandbox.CWD_ROOT_MOUNT] if isolate else None,
                  "shared_in_tmp": self.policy.shared_in_tmp(), "read_only_in_tmp": self.policy.read_only_in_tmp(),
                  "cgroups": self._cgroup_config(isolate)}
        if self.flavour is not None:
            config.update(paths=list(self.flavour.paths), preload=list(self.flavour.preload))
        program = [sandbox.python_executable(), f"{inside}/zygote.py", json.dumps(config)]
        if not isolate:
            return program
        binds = self.cgroups.inside()["binds"] if self.cgroups is not None else {}
        return sandbox.bwrap_argv(self.policy, work=self.scratch_root, runtime=str(self.runtime),
                                  binds=binds) + program

    def _cgroup_config(self, isolate: bool) -> dict[str, Any] | None:
        """Where spares make their jobs' groups (as the zygote sees them), and the default limits."""
        if self.cgroups is None:
            return None
        inside = self.cgroups.inside()
        if isolate:
            memory, pids = inside["memory"], inside["pids"]
        else:
            memory, pids = str(self.cgroups.parents["memory"]), str(self.cgroups.parents["pids"])
        return {"version": inside["version"], "memory": memory, "pids": pids,
                "memory_mb": self.memory_mb, "max_processes": self.policy.max_processes}

    def spawn(self) -> None:
        """Start the zygote's process, which boots on its own meanwhile; `start` waits for it."""
        if self.process is not None:
            return
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        self.process = subprocess.Popen(
            self.argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=sandbox.clean_env(),
            start_new_session=True,  # a Ctrl-C at the terminal is the engine's to handle
        )

    async def start(self) -> None:
        """Start the zygote (unless `spawn` did) and wait until it listens."""
        self.spawn()
        self.loop = asyncio.get_running_loop()
        self._ready = self.loop.create_future()
        control = self.process.stdout.fileno()
        os.set_blocking(control, False)
        self.loop.add_reader(control, self._readable, control)
        self._reading = True
        try:
            timeout = ZYGOTE_START_TIMEOUT if self.flavour is None else FLAVOURED_START_TIMEOUT
            said = await asyncio.wait_for(asyncio.shield(self._ready), timeout)
        except TimeoutError:
            said = b"nothing"
        if said != b"ready":
            await self.stop()
            raise RuntimeError(f"the zygote failed to start (said {said!r})")

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
        """Take in one control line: `ready`, or `exit PID CODE` for a reaped spare."""
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

    def exit_of(self, pid: int) -> asyncio.Future:
        """A future of how the job of spare `pid` ended (negative: signal); None once nothing more is reported."""
        future = asyncio.get_running_loop().create_future()
        if pid in self._exits:
            future.set_result(self._exits.pop(pid))
        elif not self._reading:
            future.set_result(None)
        else:
            self._waiters[pid] = future
        return future

    def forget(self, pid: int) -> None:
        """Drop what is known of a spare whose job has ended."""
        self._exits.pop(pid, None)
        self._waiters.pop(pid, None)

    async def stop(self) -> None:
        """Ask the zygote to exit (closing its stdin) and wait for it; kill it if it lingers."""
        process = self.process
        if process is None:
            return
        self._stop_reading()
        process.stdin.close()
        deadline = time.monotonic() + STOP_GRACE
        while process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(STOP_POLL)
        if process.poll() is None:
            kill_group(process.pid)
            process.wait()
        process.stdout.close()
        self.process = None


@dataclass
class Launch:
    """One job for the zygote: what to send, and what its end looks like."""

    payload: dict[str, Any]
    """The job JSON (see inside/zygote.py and inside/pyjob.py)."""
    timeout: float | None
    memory_mb: int
    max_result_bytes: int
    ends_with_frame: bool
    """True: a result or error frame ends the job (Python, bun). False: its exit does (bash)."""


class ZygoteJobs:
    """Runs jobs in children of the pool's zygotes (restarted when they die), each in its own
    cgroup: the default zygote, or the zygote of the job's dependency lock (zygotes.py)."""

    def __init__(self, scratch: Scratch, policy: SandboxPolicy, spares: int = DEFAULT_SPARES,
                 on_stopped: Callable[[str], None] | None = None):
        self._scratch = scratch
        self.policy = policy
        self._spares = spares
        self.cgroups: Cgroups | None = Cgroups.detect()
        self.zygotes = ZygoteSet(self._make, on_stopped)

    def spawn_ahead(self) -> None:
        """Start booting the default zygote now, for the first job to find it ready."""
        self.zygotes.ahead(None)

    def _make(self, flavour: Flavour | None) -> Zygote:
        return Zygote(self._scratch, self._spares, self.policy, self.runtime, self.cgroups, flavour)

    @property
    def runtime(self) -> Path:
        """A folder every job sees read-only at sandbox.RUNTIME_MOUNT (made on first use)."""
        folder = self._scratch.root / "runtime"
        folder.mkdir(exist_ok=True)
        return folder

    def runtime_path(self, name: str) -> str:
        """Where a file of the runtime folder is, as a job sees it."""
        if self.policy.enabled:
            return f"{sandbox.RUNTIME_MOUNT}/{name}"
        return str(self.runtime / name)

    async def run(self, launch: Launch, on_log: LogCallback | None, flavour: Flavour | None = None) -> Ended:
        """Run one job to its end, in a child of the zygote of `flavour` (None: the default one)."""
        zygote, sock = await self._connect(flavour)
        self.zygotes.busy(zygote, +1)
        try:
            ended = await _Session(sock, zygote, self.cgroups, on_log).run(launch)
            if not ended.started:
                # The connection broke before any child took the job (a zygote that just
                # died): nothing of the script ran, so it is safe to try once more.
                self.zygotes.busy(zygote, -1)
                zygote, sock = await self._connect(flavour, stale=zygote)
                self.zygotes.busy(zygote, +1)
                ended = await _Session(sock, zygote, self.cgroups, on_log).run(launch)
            return ended
        finally:
            self.zygotes.busy(zygote, -1)

    async def _connect(self, flavour: Flavour | None, stale: Zygote | None = None) -> tuple[Zygote, socket.socket]:
        """A connection to a live zygote, (re)starting it when needed or `stale`."""
        for _attempt in range(2):
            zygote = await self.zygotes.get(flavour, stale)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            # Messages then carry their sender's pid as we see it: the job process's,
            # which it cannot know itself inside its PID namespace.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            sock.setblocking(False)
            try:
                await asyncio.get_running_loop().sock_connect(sock, zygote.socket_path)
                return zygote, sock
            except (ConnectionRefusedError, FileNotFoundError):
                sock.close()
                stale = zygote
            except BaseException:  # cancelled: the socket is nobody's
                sock.close()
                raise
        raise RuntimeError("cannot reach the zygote after restarting it")

    async def close(self) -> None:
        """Stop the zygotes and remove the cgroups."""
        await self.zygotes.close()
        if self.cgroups is not None:
            self.cgroups.close()


class _Session:
    """One job's conversation with its child: its socket, its two pipes, its end."""

    def __init__(self, sock: socket.socket, zygote: Zygote, cgroups: Cgroups | None,
                 on_log: LogCallback | None):
        self.sock, self.zygote, self.cgroups = sock, zygote, cgroups
        self.loop = asyncio.get_running_loop()
        self.frames = bytearray()
        self.splitters: dict[int, LineSplitter] = {}
        self.pending: list[tuple[int, bytes]] = []
        self.open_fds: set[int] = set()
        self.wake: asyncio.Future | None = None
        self.keeper: int | None = None
        self.init: int | None = None
        """PID 1 of the job's namespace (as we see it): killing it ends every process of the job."""
        self.sender: int | None = None
        """The job process's pid, from the credentials of its first message."""
        self.group: JobGroup | None = None
        self.exit: asyncio.Future | None = None
        self.on_log = on_log
        self.launch: Launch | None = None
        self.ended = Ended()
        self.sent = False
        self.done = False

    async def run(self, launch: Launch) -> Ended:
        """Relay output until the child answers, exits or times out; then end the job."""
        self.launch = launch
        timer = None
        if launch.timeout is not None:
            timer = self.loop.call_later(launch.timeout, self._time_out)
        try:
            self._watch(self.sock.fileno())
            if not self._own_memory_cap():
                await self._send_job()  # the child reads it once it says who it is: one round trip less
            while not self.done:
                await self._next_event()
                self._process()
                if self.keeper is not None and not self.sent:
                    await self._send_job()
                if not self.done:
                    self._check_end()
            return self.ended
        finally:
            if timer is not None:
                timer.cancel()
            try:
                self._end_job()
                await self._release()
            finally:
                self._close()

    def _watch(self, fd: int) -> None:
        self.open_fds.add(fd)
        self.loop.add_reader(fd, self._readable, fd)

    def _readable(self, fd: int) -> None:
        try:
            if fd != self.sock.fileno():
                data = os.read(fd, READ_CHUNK)
            elif self.sender is None:
                data = self._receive_with_sender()
            else:
                data = self.sock.recv(READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        self.pending.append((fd, data))
        if not data:
            self._unwatch(fd)
        self._wake()

    def _receive_with_sender(self) -> bytes:
        data, ancillary, _flags, _addr = self.sock.recvmsg(READ_CHUNK, socket.CMSG_SPACE(CREDENTIALS.size))
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and data:
                self.sender = CREDENTIALS.unpack(value[:CREDENTIALS.size])[0]
        return data

    def _unwatch(self, fd: int) -> None:
        if fd in self.open_fds:
            self.open_fds.discard(fd)
            self.loop.remove_reader(fd)

    def _wake(self, *_args: Any) -> None:
        if self.wake is not None and not self.wake.done():
            self.wake.set_result(None)

    def _time_out(self) -> None:
        self.ended.timed_out = True
        self._wake()

    async def _next_event(self) -> None:
        if not self.pending and not self._exited() and not (self.ended.timed_out and self.keeper is not None):
            self.wake = self.loop.create_future()
            await self.wake
            self.wake = None

    def _exited(self) -> bool:
        return self.exit is not None and self.exit.done()

    def _process(self) -> None:
        """Turn the bytes read so far into log lines and frames, output first."""
        pending, self.pending = self.pending, []
        # Output the child wrote before a frame can be read after it in the same round;
        # taking in pipe data first keeps the final drain from missing any.
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
        while not self.done and len(self.frames) >= FRAME.size:
            kind, size = FRAME.unpack_from(self.frames)
            limit = self.launch.max_result_bytes if kind == b"R" else ERROR_FRAME_LIMIT
            if size > limit:
                self.ended.too_large = size
                self._finish()
                return
            if len(self.frames) < FRAME.size + size:
                return
            payload = bytes(self.frames[FRAME.size:FRAME.size + size])
            del self.frames[:FRAME.size + size]
            self._on_frame(kind, payload)

    def _on_frame(self, kind: bytes, payload: bytes) -> None:
        if kind == b"P":
            self.keeper, self.init = (int(word) for word in payload.split())
            self.ended.started = True
            self.exit = self.zygote.exit_of(self.keeper)
            self.exit.add_done_callback(self._wake)
            if self.cgroups is not None:
                self.group = self.cgroups.group(self.keeper)
        elif kind in (b"R", b"E") and self.launch.ends_with_frame:
            self.ended.frame = (kind, json.loads(payload))
            self._finish()

    def _own_memory_cap(self) -> bool:
        """Whether the job's cgroup needs another memory cap than the one it was made with."""
        return self.cgroups is not None and self.launch.memory_mb != self.zygote.memory_mb

    async def _send_job(self) -> None:
        """Hand the child the job and its output pipes, in one message unless it is large;
        a job with a memory cap of its own is sent once its cgroup (made ahead by its
        spare, named in the child's first frame) has that cap."""
        self.sent = True
        if self._own_memory_cap():
            self.cgroups.set_memory(self.group, self.launch.memory_mb)
        payload = json.dumps(self.launch.payload).encode()
        message = HEADER.pack(len(payload)) + payload
        pipes = [os.pipe(), os.pipe()]
        for (read_fd, _), splitter in zip(pipes, (self.ended.stdout, self.ended.stderr)):
            os.set_blocking(read_fd, False)
            splitter.on_log = self.on_log
            self.splitters[read_fd] = splitter
            self._watch(read_fd)
        write_fds = [write_fd for _, write_fd in pipes]
        try:
            ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", write_fds))]
            sent = self.sock.sendmsg([message], ancillary)
        except OSError:
            return  # the child is gone; its exit report ends the job
        finally:
            for fd in write_fds:
                os.close(fd)  # the child holds them now; their closing is our EOF
        try:
            if sent < len(message):
                await self.loop.sock_sendall(self.sock, memoryview(message)[sent:])
        except OSError:
            pass

    def _check_end(self) -> None:
        """The job ends without a frame when it timed out, exited, or hung up before starting."""
        if self.ended.timed_out and self.keeper is not None:
            self._finish()
        elif self._exited():
            self._finish()
        elif self.keeper is None and self.sock.fileno() not in self.open_fds:
            self._finish()  # the connection broke before a child took the job

    def _finish(self) -> None:
        """Settle the end after taking in all output the child wrote before it."""
        self.done = True
        for fd, splitter in self.splitters.items():
            self._drain(fd, splitter)
        if self._exited():
            self.ended.exit_code = self.exit.result()

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

    def _end_job(self) -> None:
        """Kill the job's process (PID 1 of its namespace: everything it started dies too)."""
        if self.init is not None and not self._exited():
            kill_pid(self.init)
        for group in (self.keeper, self.sender):  # without the sandbox, what is in their groups
            if group is not None:
                kill_group(group)

    async def _release(self) -> None:
        """Take the last output, free the job's cgroup, note an out-of-memory kill.

        A job that ends with a frame flushed its output before the frame; one that ends
        by exiting (bash) may have left a process that still holds its pipes (only
        without the sandbox, whose job namespace dies with the job): wait for that a moment.
        """
        waiting = [fd for fd in self.splitters if fd in self.open_fds]
        if waiting and not self.launch.ends_with_frame:
            closed = [self.loop.create_future() for _ in waiting]
            for fd, future in zip(waiting, closed):
                self.loop.remove_reader(fd)
                self.loop.add_reader(fd, self._drain_until_closed, fd, future)
            await asyncio.wait(closed, timeout=DRAIN_GRACE)
        for splitter in self.splitters.values():
            splitter.close()
        if self.group is not None:
            if self.ended.frame is None:  # a job that answered ended as it says, whatever the kernel killed
                self.ended.out_of_memory = self.cgroups.out_of_memory(self.group)
            self.cgroups.release(self.group)
        if self.keeper is not None:
            self.zygote.forget(self.keeper)

    def _drain_until_closed(self, fd: int, closed: asyncio.Future) -> None:
        try:
            data = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self.splitters[fd].feed(data)
            return
        self._unwatch(fd)
        if not closed.done():
            closed.set_result(None)

    def _close(self) -> None:
        for fd in list(self.open_fds):
            self._unwatch(fd)
        for fd in self.splitters:
            os.close(fd)
        self.sock.close()

