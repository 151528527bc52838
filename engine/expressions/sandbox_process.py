"""The quickjs sandbox in a helper process, killed when a request overruns its deadline.

Why a process: quickjs checks its time limit only between bytecodes, so a native
loop never sees it. `/(a+)+$/.test("a".repeat(40) + "b")` backtracks for hours,
`Array.prototype.includes.call({length: 1e12}, 1)` and `new Array(1e9).join("")`
loop for minutes, and a thread running them cannot be stopped. Measured before
choosing: quickjs-ng (PyPI `quickjs-ng` 0.17) stops the regular expression and
the array-likes but not the `join`, so no in-process engine is safe by
construction; a process is, whatever the native code does, for a pipe round
trip a request (tens of µs on a quiet machine, a few hundred on a busy one; see
the README's Speed). Expressions that plain data access cannot answer come
here; the fast path never does.

The helper starts with `python -I` and an empty environment (no secrets, no
`PYTHONPATH`), in a session of its own (a Ctrl-C at the terminal is the app's
to handle), inside the scripts' sandbox without network nor writable folders
(`engine.runners.sandbox.helper_argv`: were QuickJS broken into, the flow's
author would still reach nothing of the app), and speaks one JSON line each way:
nothing it sends is unpickled.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import IO, Any, cast

from engine.expressions.sandbox import JsSyntax, JsThrew, JsTimeout, Limits, outcome

_SERVER = Path(__file__).with_name("sandbox.py")
START_TIMEOUT = 10.0
"""Seconds a new helper may take to answer that it is ready (a loaded machine is slow)."""
_READ_SIZE = 1 << 16


class JsHelperLost(JsThrew):
    """The helper process died or never started; the message says how."""


class SandboxProcess:
    """One helper process holding a `Sandbox`; one caller at a time.

    Every request must be answered within `limits.deadline` seconds, or the
    helper is killed and the request raises `JsTimeout`. A killed or dead
    helper stays dead (`alive` is False): its owner starts another.
    """

    def __init__(self, limits: Limits):
        from engine.runners.sandbox import helper_argv

        self._limits = limits
        argv, self._refused = helper_argv(_SERVER, repr(limits.time), str(limits.memory))
        self._proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={},
            cwd="/",
            start_new_session=True,
        )
        self._requests = cast(IO[bytes], self._proc.stdin)
        self._replies = cast(IO[bytes], self._proc.stdout)
        self._buffer = bytearray()
        # poll, not select: an app with many connections has descriptors past select's 1024.
        self._readable = select.poll()
        self._readable.register(self._replies.fileno(), select.POLLIN)
        try:
            if self._read(time.monotonic() + START_TIMEOUT) != ["ready"]:
                raise JsHelperLost("the JavaScript helper process did not start properly")
        except JsTimeout:
            raise JsHelperLost(f"the JavaScript helper process did not start within {START_TIMEOUT:g} s") from None

    @property
    def pid(self) -> int:
        """The id of the helper's process group (bubblewrap's, and the helper's inside it)."""
        return self._proc.pid

    @property
    def alive(self) -> bool:
        """Whether the helper can take another request."""
        return self._proc.returncode is None

    def compile(self, source: str) -> None:
        """Compile `source`; raises `JsSyntax` when it does not."""
        self._ask(["compile", source])

    def syntax_error(self, source: str) -> JsSyntax | None:
        """The error compiling `source` raises, or None."""
        try:
            self._ask(["syntax_error", source])
        except JsSyntax as error:
            return error
        return None

    def call(self, source: str, args_json: str, *, may_throw_null: bool = False) -> str | None:
        """Compile `source` and call it with JSON arguments; see `Sandbox.run`.

        Raises:
            JsHelperLost: no sandbox can be made here, so no expression runs (the message says why).
        """
        if self._refused is not None:
            raise JsHelperLost(self._refused)
        return self._ask(["call", source, args_json, may_throw_null])

    def close(self) -> None:
        """Stop the helper (killing it if it is busy) and reap it."""
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # its group: bubblewrap and the helper inside
                os.killpg(self._proc.pid, signal.SIGKILL)
        self._proc.wait()
        with contextlib.suppress(BrokenPipeError):  # a request the dead helper never read
            self._requests.close()
        self._replies.close()

    def _ask(self, request: list[Any]) -> Any:
        if not self.alive:
            raise JsHelperLost("the JavaScript helper process has stopped")
        deadline = time.monotonic() + self._limits.deadline
        try:
            try:
                self._requests.write(json.dumps(request, separators=(",", ":")).encode() + b"\n")
                self._requests.flush()
            except BrokenPipeError:
                pass  # it died; reading its output says how
            reply = self._read(deadline)
        except BaseException:
            self.close()  # interrupted: its reply must never reach the next caller
            raise
        return outcome(reply)

    def _read(self, deadline: float) -> list[Any]:
        """The next line the helper writes, as JSON; kills it at `deadline`."""
        fd, searched = self._replies.fileno(), 0
        while (end := self._buffer.find(b"\n", searched)) < 0:
            searched = len(self._buffer)
            left = deadline - time.monotonic()
            if left <= 0 or not self._readable.poll(left * 1000):
                self.close()
                raise JsTimeout()
            chunk = os.read(fd, _READ_SIZE)
            if not chunk:
                self._lost()
            self._buffer += chunk
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        return json.loads(line)

    def _lost(self) -> None:
        """The helper closed its output: it died. Say why."""
        self.close()
        code = self._proc.returncode
        if code > 128:  # bubblewrap says a signal ended the helper inside as 128 + its number
            code = 128 - code
        if code == -signal.SIGXCPU:
            raise JsTimeout()
        how = f"on signal {-code}" if code < 0 else f"with exit code {code}"
        raise JsHelperLost(f"the JavaScript helper process stopped {how}")
