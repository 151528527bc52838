"""The Python zygote: a warm interpreter whose forked children run script jobs.

Run as a program, never imported by the engine:
``python python_zygote.py SOCKET WORKROOT SPARES``. It imports the common runtime once
and keeps SPARES forked children waiting on the Unix socket SOCKET; each accepts one
connection and runs exactly that job. The zygote itself never reads a job, so no user
input can reach it. A job without a working directory gets WORKROOT/job-PID, removed
when the child is reaped.

Engine -> child, on the connection: a 4-byte big-endian length sent together with two
file descriptors (SCM_RIGHTS: the write ends of the engine's stdout and stderr pipes),
then that many bytes of job JSON: {"content", "args", "env", "cwd" (or null),
"memory_mb", "max_result_bytes"}.
Child -> engine: frames of one kind byte, a 4-byte length and a payload:
``P`` the child's pid (ASCII), then ``R`` main's result as JSON or ``E`` an error
object {"name", "message", "stack"} as JSON.
Zygote -> engine, on its stdout: ``ready`` once serving, then ``exit PID CODE`` for
every reaped child (CODE negative: killed by that signal).
"""

from __future__ import annotations

import array
import asyncio
import base64
import collections
import dataclasses
import datetime
import decimal
import enum
import functools
import gc
import inspect
import io
import itertools
import json
import linecache
import math
import os
import pathlib
import random
import re
import resource
import select
import selectors
import shutil
import signal
import socket
import string
import struct
import sys
import textwrap
import threading
import time
import traceback
import types
import typing
import uuid

PRELOADED = (array, base64, collections, dataclasses, decimal, enum, functools, io)
PRELOADED += (itertools, math, pathlib, random, string, textwrap, time, uuid)

SCRIPT_FILE = "main.py"
HEADER = struct.Struct(">I")
FRAME = struct.Struct(">cI")
# Address space kept back from the script so that, once it has run out of memory, its
# error can still be formatted and sent (the hard limit sits this far above the soft one).
REPORT_HEADROOM = 64 * 2**20
# Error messages and stacks longer than this are shortened, so an error always fits
# in its frame (a huge message is a bug in the script, not data to keep).
ERROR_TEXT_LIMIT = 64 * 2**10


def send_frame(conn: socket.socket, kind: bytes, payload: bytes) -> None:
    """Send one frame; large payloads go out without being copied into the header."""
    if len(payload) > 65536:
        conn.sendall(FRAME.pack(kind, len(payload)))
        conn.sendall(payload)
    else:
        conn.sendall(FRAME.pack(kind, len(payload)) + payload)


def shorten(text: str, keep_end: bool = False) -> str:
    """`text`, or its first (or last) ERROR_TEXT_LIMIT characters saying how many were cut."""
    cut = len(text) - ERROR_TEXT_LIMIT
    if cut <= 0:
        return text
    if keep_end:
        return f"[{cut:,} characters cut]\n" + text[cut:]
    return text[:ERROR_TEXT_LIMIT] + f" [{cut:,} characters cut]"


def send_error(conn: socket.socket, name: str, message: str, stack: str = "") -> None:
    """Send the error object that fails the step."""
    error = {"name": name, "message": shorten(message), "stack": shorten(stack, keep_end=True)}
    send_frame(conn, b"E", json.dumps(error).encode())


def recv_exact(conn: socket.socket, size: int) -> bytes:
    """Read exactly `size` bytes, or raise EOFError if the engine hung up."""
    chunks, left = [], size
    while left:
        chunk = conn.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("engine closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive_job(conn: socket.socket) -> dict:
    """Read the job and put the engine's pipes on fd 1 and 2."""
    data, fds, _flags, _addr = socket.recv_fds(conn, HEADER.size, 2)
    if len(fds) != 2:
        raise EOFError("engine sent no output pipes")
    data += recv_exact(conn, HEADER.size - len(data))
    job = json.loads(recv_exact(conn, HEADER.unpack(data)[0]))
    for target, fd in zip((1, 2), fds):
        os.dup2(fd, target)
        os.close(fd)
    return job


def apply_limits(job: dict) -> None:
    """Cap the address space, move into the working directory, set the environment."""
    cap = job["memory_mb"] * 2**20
    reserve = cap + REPORT_HEADROOM
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap, reserve = min(cap, hard), min(reserve, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, reserve))
    os.chdir(job["cwd"])
    os.environ.update(job["env"])


def release_headroom() -> None:
    """Let the child use the memory kept back, to report how the script ended."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def memory_message(limit_mb: int) -> str:
    """Say that the script hit its memory cap, and how to raise it."""
    return (
        f"the script ran out of memory: it may use at most {limit_mb:,} MiB of address "
        "space; use less memory or raise MILLRACE_SCRIPT_MEMORY_MB"
    )


def annotation_kind(annotation: typing.Any) -> str | None:
    """Which conversion an annotation asks for: "datetime", "date", "bytes" or None."""
    if isinstance(annotation, str):
        text = annotation.replace(" ", "").replace("datetime.", "")
        text = re.sub(r"^(?:typing\.)?Optional\[(.*)\]$", r"\1", text)
        text = text.removesuffix("|None").removeprefix("None|")
        return text if text in ("datetime", "date", "bytes") else None
    simple = {datetime.datetime: "datetime", datetime.date: "date", bytes: "bytes"}
    if annotation in simple:
        return simple[annotation]
    members = [a for a in typing.get_args(annotation) if a is not type(None)]
    return annotation_kind(members[0]) if len(members) == 1 else None


def admits_none(annotation: typing.Any) -> bool:
    """Whether an annotation allows None: Optional[X], X | None, Union[X, None]."""
    if isinstance(annotation, str):
        text = annotation.replace(" ", "").replace("typing.", "")
        members = re.fullmatch(r"Union\[(.*)\]", text)
        return (
            text.startswith("Optional[")
            or "None" in (members[1].split(",") if members else text.split("|"))
        )
    return type(None) in typing.get_args(annotation)


def convert(kind: str | None, value: typing.Any) -> typing.Any:
    """Turn a JSON string into the datetime, date or bytes main asks for, when it parses."""
    if kind is None or not isinstance(value, str):
        return value
    try:
        if kind == "datetime":
            return datetime.datetime.fromisoformat(value)
        if kind == "date":
            return datetime.date.fromisoformat(value[:10])
        return base64.b64decode(value, validate=True)
    except ValueError:
        return value


def call_arguments(main: typing.Callable, args: dict) -> dict:
    """Keep the args main accepts, converted to the types its signature names.

    An Optional parameter without a default that is not given gets None: its schema
    does not require it.
    """
    try:
        params = inspect.signature(main).parameters
    except (TypeError, ValueError):
        return args
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = {}
    for name, value in args.items():
        param = params.get(name)
        if param is None or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            if takes_any:
                kwargs[name] = value
            continue
        kwargs[name] = convert(annotation_kind(param.annotation), value)
    for name, param in params.items():
        named = param.kind not in (param.VAR_KEYWORD, param.VAR_POSITIONAL)
        if named and name not in kwargs and param.default is param.empty:
            if admits_none(param.annotation):
                kwargs[name] = None
    return kwargs


def call_main(main: typing.Callable, kwargs: dict) -> typing.Any:
    """Call main with arguments by name; positional-only ones are passed by position."""
    positional = []
    try:
        params = inspect.signature(main).parameters.values()
    except (TypeError, ValueError):
        params = []
    for param in params:
        if param.kind is not param.POSITIONAL_ONLY or param.name not in kwargs:
            break
        positional.append(kwargs.pop(param.name))
    return main(*positional, **kwargs)


def user_traceback(exc: BaseException) -> str:
    """The traceback of `exc` without the zygote's own frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def load_main(content: str) -> typing.Callable:
    """Compile and execute the script as module `main`; return its `main`."""
    linecache.cache[SCRIPT_FILE] = (len(content), None, content.splitlines(True), SCRIPT_FILE)
    code = compile(content, SCRIPT_FILE, "exec", dont_inherit=True)
    module = types.ModuleType("main")
    module.__file__ = SCRIPT_FILE
    # dataclasses and pickle look the defining module up in sys.modules.
    sys.modules["main"] = module
    exec(code, module.__dict__)
    main = module.__dict__.get("main")
    if not callable(main):
        raise LookupError("the script defines no function `main`; add `def main(...):`")
    return main


def run_main(job: dict) -> typing.Any:
    """Load the script, call main with the job's args, await it when async."""
    main = load_main(job["content"])
    result = call_main(main, call_arguments(main, job["args"]))
    if inspect.isawaitable(result):

        async def wait() -> typing.Any:
            return await result

        result = asyncio.run(wait())
    return result


def encode_result(result: typing.Any, limit: int) -> tuple[bytes | None, str]:
    """Serialise the result; return (json bytes, "") or (None, why it cannot be sent)."""
    try:
        data = json.dumps(result, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        message = str(exc)
        return None, "result of main is not JSON: " + message[0].lower() + message[1:]
    payload = data.encode()
    if len(payload) > limit:
        return None, (
            f"result of main is {len(payload):,} bytes as JSON, over the limit of {limit:,} "
            "bytes; return less data (write big data to a file) or raise "
            "MILLRACE_MAX_RESULT_BYTES"
        )
    return payload, ""


def flush_output() -> None:
    """Push buffered prints into the pipes so they reach the engine before the result."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass


def watch_engine(conn: socket.socket) -> None:
    """End this job's process group as soon as the engine hangs up.

    The engine sends nothing after the job, so the connection ends only when the
    engine is done with the job or is gone (killed, crashed): then nobody reads the
    script's output or enforces its timeout, and it must not run on alone.
    """

    def wait() -> None:
        try:
            conn.recv(1)
        except OSError:
            pass
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=wait, name="millrace-engine-watch", daemon=True).start()


def serve_job(conn: socket.socket, workroot: str) -> None:
    """Run one job in this child and report its result on `conn`."""
    send_frame(conn, b"P", str(os.getpid()).encode())
    job = receive_job(conn)
    watch_engine(conn)
    job["cwd"] = job["cwd"] or job_dir(workroot)
    apply_limits(job)
    try:
        result = run_main(job)
    except SyntaxError as exc:
        flush_output()
        message = f"{exc.msg} (line {exc.lineno})"
        stack = "".join(traceback.format_exception_only(type(exc), exc))
        return send_error(conn, "SyntaxError", message, stack)
    except MemoryError as exc:
        release_headroom()
        flush_output()
        message = memory_message(job["memory_mb"])
        return send_error(conn, "MemoryError", message, user_traceback(exc))
    except BaseException as exc:  # the user's failure, whatever it is, fails the step
        release_headroom()
        flush_output()
        return send_error(conn, type(exc).__name__, str(exc), user_traceback(exc))
    release_headroom()
    flush_output()
    try:
        payload, problem = encode_result(result, job["max_result_bytes"])
    except MemoryError:
        message = memory_message(job["memory_mb"]) + " (while encoding the result as JSON)"
        return send_error(conn, "MemoryError", message)
    if payload is None:
        kind = "ResultTooLarge" if "over the limit" in problem else "TypeError"
        return send_error(conn, kind, problem)
    send_frame(conn, b"R", payload)


WARM_UP_SCRIPT = """
from datetime import datetime
def main(x: int, when: datetime | None = None, *, label: str = "warm"):
    return {"x": x, "label": label, "when": str(when)}
"""


def job_dir(workroot: str) -> str:
    """This child's own fresh working directory (the zygote removes it after the child)."""
    return os.path.join(workroot, f"job-{os.getpid()}")


def warm_up() -> None:
    """Run a tiny script in a spare before it waits for a job.

    A fresh fork shares the zygote's memory; the first touch of each page copies it,
    which is slow. Doing the job path once here moves those copies off the job's time.
    """
    main = load_main(WARM_UP_SCRIPT)
    args = json.loads('{"x": 1, "when": "2024-01-01T00:00:00Z", "extra": true}')
    encode_result(call_main(main, call_arguments(main, args)), 1 << 20)
    sys.modules.pop("main", None)
    linecache.cache.pop(SCRIPT_FILE, None)


def report(line: str) -> None:
    """Tell the engine something on the control channel (the zygote's stdout)."""
    os.write(1, (line + "\n").encode())


class Zygote:
    """Keeps `spares` forked children waiting on the socket; reaps and reports them.

    A spare accepts one connection itself, tells the zygote through a pipe, and runs
    that job; the zygote forks a replacement at once. So neither the fork nor the
    first copies of the runtime's pages are on a job's path. Spares hold nothing of
    the control channel and exit when the zygote dies, so a killed zygote leaves
    nothing behind that could take a job or keep the engine waiting.
    """

    def __init__(self, path: str, workroot: str, spares: int):
        self.workroot, self.want = workroot, spares
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(128)
        # Spares accept connections themselves, each in its own time.
        self.listener.setblocking(False)
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        self.taken_r, self.taken_w = os.pipe()
        # Only the zygote holds the write end: a spare sees it close when the zygote dies.
        self.alive_r, self.alive_w = os.pipe()
        self.spares: set[int] = set()
        self.failures = 0
        self.selector = selectors.DefaultSelector()

    def serve(self) -> None:
        """Keep the spares ready until the engine closes our stdin."""
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.selector.register(self.taken_r, selectors.EVENT_READ, self.on_taken)
        self.selector.register(self.wake_r, selectors.EVENT_READ, self.on_signal)
        self.selector.register(0, selectors.EVENT_READ, None)
        gc.freeze()  # children then share the runtime's pages instead of copying them
        self.refill()
        report("ready")
        while True:
            for key, _events in self.selector.select():
                if key.data is None:
                    if not os.read(0, 4096):
                        return self.shut_down()
                else:
                    key.data()

    def refill(self) -> None:
        """Fork spares until there are enough (unless spares keep dying at birth)."""
        while len(self.spares) < self.want and self.failures < 10:
            try:
                pid = os.fork()
            except OSError:
                return
            if pid == 0:
                self.be_spare()
            self.spares.add(pid)

    def on_taken(self) -> None:
        for pid in os.read(self.taken_r, 4096).split():
            self.spares.discard(int(pid))
        self.failures = 0
        self.refill()

    def on_signal(self) -> None:
        os.read(self.wake_r, 4096)
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            code = os.waitstatus_to_exitcode(status)
            report(f"exit {pid} {code}")
            shutil.rmtree(os.path.join(self.workroot, f"job-{pid}"), ignore_errors=True)
            if pid in self.spares:
                self.spares.discard(pid)
                self.failures += 1
        self.refill()

    def be_spare(self) -> typing.NoReturn:
        """In a new child: drop the zygote's state, warm up, take one job, exit."""
        code = 0
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            self.selector.close()
            for fd in (self.wake_r, self.wake_w, self.taken_r, self.alive_w):
                os.close(fd)
            os.setsid()  # own process group: a timeout kills the script's subprocesses too
            # Let go of the control channel (stdout), so that the engine sees it end
            # when the zygote dies, however many spares are still waiting.
            devnull = os.open(os.devnull, os.O_RDWR)
            os.dup2(devnull, 0)
            os.dup2(devnull, 1)
            os.close(devnull)
            # Line buffering makes every print reach the engine as soon as its line ends.
            sys.stdout.reconfigure(line_buffering=True)
            sys.stderr.reconfigure(line_buffering=True)
            gc.enable()
            os.mkdir(job_dir(self.workroot), 0o700)  # made ahead: mkdir can be slow
            warm_up()
            conn = self.accept()
            if conn is None:
                shutil.rmtree(job_dir(self.workroot), ignore_errors=True)
                return
            os.write(self.taken_w, f"{os.getpid()}\n".encode())
            self.listener.close()
            for fd in (self.taken_w, self.alive_r):
                os.close(fd)
            serve_job(conn, self.workroot)
        except BaseException:  # a broken connection or an engine bug: nothing left to tell
            code = 70
        finally:
            flush_output()
            os._exit(code)

    def accept(self) -> socket.socket | None:
        """In a spare: the next job's connection, or None once the zygote is gone."""
        while True:
            ready, _, _ = select.select([self.listener, self.alive_r], [], [])
            if self.alive_r in ready:
                return None
            try:
                conn, _addr = self.listener.accept()
            except BlockingIOError:  # another spare took it
                continue
            conn.setblocking(True)
            return conn

    def shut_down(self) -> None:
        """Stop the spares; children running jobs finish on their own.

        (Such a child ends when the engine hangs up; see watch_engine.)
        """
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for pid in self.spares:
            os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.disable()
    Zygote(sys.argv[1], sys.argv[2], int(sys.argv[3])).serve()
