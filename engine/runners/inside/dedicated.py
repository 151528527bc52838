"""A dedicated worker: one job process that calls `main` again for every call (inside the
sandbox; never imported by the engine).

The zygote's job process (zygote.py) has taken a job marked "dedicated": its folder,
environment, limits and privileges are settled as for any job, and instead of running it
once it serves calls on the same connection until the engine hangs up. The script is
loaded as module `main` on the first call and kept: module state persists between calls.

Engine -> worker, per call: a 4-byte big-endian length, then that many bytes of call JSON
{"entry", "args", "env"}. Worker -> engine: an ``R`` or ``E`` frame per call (frames.py), after the
call's output has been flushed into the pipes the worker was given at its start.
A script that fails to load fails the call, and is loaded again on the next one.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import select
import socket
import sys
import threading
import types
import typing

import pyjob
from frames import HEADER, recv_exact


def watch_hang_up(conn: socket.socket) -> None:
    """End the worker as soon as the engine hangs up, even in the middle of a call.

    POLLRDHUP fires when the engine's side closes, never for a call's bytes, so this
    thread takes nothing of what the main thread reads.
    """

    def wait() -> None:
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLRDHUP)
        while not poller.poll():
            pass
        os._exit(137)

    threading.Thread(target=wait, name="millrace-engine-watch", daemon=True).start()


def next_call(conn: socket.socket) -> dict | None:
    """The next call's JSON, or None once the engine is done with this worker."""
    try:
        size = HEADER.unpack(recv_exact(conn, HEADER.size))[0]
        return json.loads(recv_exact(conn, size))
    except EOFError:
        return None


class Worker:
    """The script loaded once, its `main` called per call."""

    def __init__(self, job: dict):
        self.job = job
        self.module: types.ModuleType | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        """One event loop for every call of an async main: what a call keeps (a client, a
        queue) stays bound to a loop that is still there for the next one."""
        if job.get("package") is not None or job.get("modules"):
            sys.path.insert(0, os.path.join(job["job_dir"], pyjob.MODULES_DIR))

    def function(self, entry: str) -> typing.Callable:
        """The script's function `entry`; the script is loaded on the first call (one that
        fails to load fails the call, and is loaded again on the next)."""
        if self.module is None:
            pyjob.load_main(self.job["content"], entry, self.job.get("package"))
            self.module = sys.modules["main"]
        return pyjob.entry_of(self.module, entry)

    def call(self, conn: socket.socket, call: dict) -> None:
        """Run one call with its own entry point, args and environment, answering R or E."""
        job = {**self.job, "args": call["args"], "env": call["env"]}

        def compute() -> typing.Any:
            main = self.function(call.get("entry") or "main")
            return self.awaited(pyjob.call_main(main, pyjob.call_arguments(main, job["args"])))

        pyjob.answer(conn, job, compute, settle)

    def awaited(self, result: typing.Any) -> typing.Any:
        """main's result, run to its end on the worker's event loop when main is async."""
        if not inspect.isawaitable(result):
            return result
        if self.loop is None or self.loop.is_closed():
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
        return self.loop.run_until_complete(_wait(result))


async def _wait(awaitable: typing.Awaitable) -> typing.Any:
    return await awaitable


def settle(job: dict) -> None:
    """A call's limits and environment: the memory cap again (a call lifts it to report its
    end), and the call's own variables, changing only those that differ from the last call's."""
    pyjob.cap_memory(job)
    wanted = job["env"]
    for name in [name for name in os.environ if name not in wanted]:
        del os.environ[name]
    for name, value in wanted.items():
        if os.environ.get(name) != value:
            os.environ[name] = value


def serve(conn: socket.socket, job: dict) -> None:
    """Answer calls until the engine hangs up."""
    watch_hang_up(conn)
    os.chdir(job["cwd"])
    os.environ.clear()
    worker = Worker(job)
    while (call := next_call(conn)) is not None:
        worker.call(conn, call)
