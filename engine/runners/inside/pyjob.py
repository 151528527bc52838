"""Running one Python job in this process (inside the sandbox; never imported by the engine).

The job JSON for Python: {"content", "entry", "args", "env", "cwd", "memory_mb", "max_result_bytes",
"package"}; workspace scripts it imports come as files under `modules/` of the job's folder.
`run_job` loads the script as module `main`, calls `main` (or the function `entry` names) with the args converted to the
types its signature names, and sends back ``R`` (the result as JSON) or ``E`` (the error).
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import inspect
import json
import linecache
import os
import re
import resource
import socket
import sys
import traceback
import types
import typing

from frames import send_error, send_frame

SCRIPT_FILE = "main.py"
MODULES_DIR = "modules"
"""The folder of the job's own folder where the workspace scripts it imports are."""
INSIDE_DIR = os.path.dirname(os.path.abspath(__file__))
# Address space kept back from the script so that, once it has run out of memory, its
# error can still be formatted and sent (the hard limit sits this far above the soft one).
REPORT_HEADROOM = 64 * 2**20


def apply_limits(job: dict) -> None:
    """Cap the address space, move into the working directory, set the environment.

    The environment is replaced, not added to: the job sees only what the engine gave it.
    """
    cap_memory(job)
    os.chdir(job["cwd"])
    os.environ.clear()
    os.environ.update(job["env"])


def cap_memory(job: dict) -> None:
    """Cap the address space at the job's memory, keeping REPORT_HEADROOM back."""
    cap = job["memory_mb"] * 2**20
    reserve = cap + REPORT_HEADROOM
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap, reserve = min(cap, hard), min(reserve, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, reserve))


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
    while tb is not None and os.path.dirname(tb.tb_frame.f_code.co_filename) == INSIDE_DIR:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def load_main(content: str, entry: str = "main", package: str | None = None) -> typing.Callable:
    """Compile and execute the script as module `main`; return its `main` (or `entry`).

    `package` (`f.folder` for the script `f/folder/name`) is where its relative imports
    (`from .helpers import x`) are looked up.
    """
    linecache.cache[SCRIPT_FILE] = (len(content), None, content.splitlines(True), SCRIPT_FILE)
    code = compile(content, SCRIPT_FILE, "exec", dont_inherit=True)
    module = types.ModuleType("main")
    module.__file__ = SCRIPT_FILE
    module.__package__ = package
    # dataclasses and pickle look the defining module up in sys.modules.
    sys.modules["main"] = module
    exec(code, module.__dict__)
    return entry_of(module, entry)


def entry_of(module: types.ModuleType, entry: str) -> typing.Callable:
    """The function `entry` of the loaded script (`main` unless the step names another)."""
    main = module.__dict__.get(entry)
    if not callable(main):
        raise LookupError(f"the script defines no function `{entry}`; add `def {entry}(...):`")
    return main


def run_main(job: dict) -> typing.Any:
    """Load the script, call main with the job's args, await it when async."""
    if job.get("package") is not None or job.get("modules"):
        sys.path.insert(0, os.path.join(job["job_dir"], MODULES_DIR))
    main = load_main(job["content"], job.get("entry", "main"), job.get("package"))
    return await_result(call_main(main, call_arguments(main, job["args"])))


def await_result(result: typing.Any) -> typing.Any:
    """main's result, awaited when main is async."""
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


class JobError(Exception):
    """A failure a job reports as it is: its own name, message and stack, no Python traceback
    (a database's error, say)."""

    def __init__(self, name: str, message: str, stack: str = ""):
        super().__init__(message)
        self.name, self.message, self.stack = name, message, stack


def run_job(conn: socket.socket, job: dict) -> None:
    """Run one Python job in this process and report its result on `conn`."""
    answer(conn, job, lambda: run_main(job))


def answer(conn: socket.socket, job: dict, compute: typing.Callable[[], typing.Any],
           settle: typing.Callable[[dict], None] = apply_limits) -> None:
    """Apply the job's limits (`settle`), call `compute` and send its result (R) or how it failed (E)."""
    settle(job)
    try:
        result = compute()
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
    except JobError as exc:
        release_headroom()
        flush_output()
        return send_error(conn, exc.name, exc.message, exc.stack)
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
