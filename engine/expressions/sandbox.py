"""A quickjs context that compiles and runs expression functions under limits.

It lives in a helper process (`python -I sandbox.py TIME MEMORY`, see
`sandbox_process`): `serve` answers one JSON request a line on stdin with one
JSON reply a line on stdout, and `outcome` turns a reply back into a value or
the exception it stands for. This module imports nothing from the engine, so
the helper starts with quickjs alone.

The context is reused across evaluations for speed, so it is made hard to leave
traces in: every built-in object is frozen at start (a prototype patched by one
flow would change what another flow's expressions compute), names an
evaluation adds to the global object are removed after it, and each
expression runs as its own function. quickjs has no I/O of its own (no `std`,
`os`, `require`, `fetch`); nothing is added to it.
"""

from __future__ import annotations

import json
import math
import resource
import sys
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:  # quickjs is the helper process's: the engine imports this module for its outcomes
    import quickjs

_CACHE_SIZE = 1000

_PRELUDE = r"""
(function () {
  const tamed = ["constructor", "toString", "valueOf", "toLocaleString", "name", "message"];
  const seen = new Set([globalThis]);
  // Freezing a prototype makes `obj.toString = f` fail silently on ordinary
  // objects; an accessor whose setter defines an own property keeps that working.
  function tame(proto) {
    for (const key of tamed) {
      const d = Object.getOwnPropertyDescriptor(proto, key);
      if (!d || !("value" in d) || !d.configurable) continue;
      const value = d.value;
      Object.defineProperty(proto, key, {
        get() { return value; },
        set(v) {
          if (this === proto) throw new TypeError("cannot change built-in " + key);
          Object.defineProperty(this, key, {value: v, writable: true, enumerable: true, configurable: true});
        },
        enumerable: d.enumerable, configurable: false,
      });
    }
  }
  function collect(obj) {
    if (obj === null || (typeof obj !== "object" && typeof obj !== "function") || seen.has(obj)) return;
    seen.add(obj);
    collect(Object.getPrototypeOf(obj));
    for (const key of Reflect.ownKeys(obj)) {
      const d = Object.getOwnPropertyDescriptor(obj, key);
      if ("value" in d) collect(d.value); else { collect(d.get); collect(d.set); }
    }
  }
  for (const key of Reflect.ownKeys(globalThis)) collect(globalThis[key]);
  seen.delete(globalThis);
  for (const obj of seen) if (typeof obj === "function" && obj.prototype) tame(obj.prototype);
  for (const obj of seen) Object.freeze(obj);
  const parse = JSON.parse, stringify = JSON.stringify, indirectEval = eval;
  const fnToString = Function.prototype.toString, ownKeys = Reflect.ownKeys;
  for (const key of ownKeys(globalThis)) {
    Object.defineProperty(globalThis, key, {writable: false, configurable: false});
  }
  const baseline = new Set(ownKeys(globalThis));
  const fns = new Map();

  function describe(e) {
    if (e === null) return "N";
    try {
      if (e instanceof InternalError && e.message === "out of memory") return "M";
      if (e instanceof Error) return "!" + e.name + ": " + e.message;
      return "!Uncaught " + (typeof e === "string" ? e : stringify(e) ?? String(e));
    } catch (inner) {
      return "!Uncaught exception";
    }
  }
  // `results` answers null for a step id it does not hold, as documented.
  const resultsTrap = {
    get(target, key, receiver) {
      if (typeof key === "string" && !(key in target)) return null;
      return Reflect.get(target, key, receiver);
    },
  };
  let tainted = false;
  // A global that cannot be deleted would leak into later runs: Python then
  // replaces the whole context.
  function sweep() {
    for (const key of ownKeys(globalThis)) {
      if (!baseline.has(key) && !delete globalThis[key]) tainted = true;
    }
  }
  globalThis.__millrace_compile = function (id, source) {
    let fn;
    try {
      fn = indirectEval(source);
    } catch (e) {
      if (e instanceof SyntaxError) return stringify([e.message, e.lineNumber ?? null]);
      throw e;
    } finally {
      sweep();
    }
    if (typeof fn !== "function" || "(" + fnToString.call(fn) + ")" !== source) {
      return stringify(["the expression closes the function it is wrapped in", null]);
    }
    fns.set(id, fn);
    return null;
  };
  globalThis.__millrace_forget = function (id) { fns.delete(id); };
  globalThis.__millrace_run = function (id, argsJson) {
    let outcome;
    try {
      const args = parse(argsJson);
      if (args[1] !== null) args[1] = new Proxy(args[1], resultsTrap);
      const value = fns.get(id).apply(undefined, args);
      const text = stringify(value);
      outcome = text === undefined ? "" : "=" + text;
    } catch (e) {
      outcome = describe(e);
    }
    sweep();
    return tainted ? "~" + outcome : outcome;
  };
})();
"""


class JsSyntax(Exception):
    """The source does not compile; `line` is 1-based in the compiled source."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.message, self.line = message, line


class JsThrew(Exception):
    """The code threw; the message reads like `TypeError: ...`."""


class JsTimeout(Exception):
    """The code ran past the time limit."""


class JsOutOfMemory(Exception):
    """The code ran past the memory limit."""


@dataclass(frozen=True)
class Limits:
    """Limits applied to every compile and run."""

    time: float
    memory: int

    @property
    def deadline(self) -> float:
        """Seconds one request may take, wall clock, before the helper is killed.

        quickjs stops most code at `time` itself (without a kill); the slack
        covers compiling the function first, and a busy machine.
        """
        return self.time + 0.25


class Sandbox:
    """One quickjs context holding compiled functions, reused across runs.

    Not thread-safe: quickjs must stay on the thread that created it.
    """

    def __init__(self, limits: Limits):
        import quickjs

        self._error = quickjs.JSException
        self._ctx = quickjs.Context()
        self._ctx.set_memory_limit(limits.memory)
        # The prelude walks every built-in once; give it room beyond the user limit.
        self._ctx.set_time_limit(max(limits.time, 2.0))
        self._ctx.eval(_PRELUDE)
        self._ctx.set_time_limit(limits.time)
        self._compile_js = self._ctx.get("__millrace_compile")
        self._run_js = self._ctx.get("__millrace_run")
        self._forget_js = self._ctx.get("__millrace_forget")
        # Reachable from Python only, never from the code the context runs.
        self._ctx.eval("for (const k of ['compile', 'run', 'forget']) delete globalThis['__millrace_' + k]")
        self._ids: OrderedDict[str, int] = OrderedDict()
        self._next_id = 0
        self.broken = False

    def compile(self, source: str) -> int:
        """Compile `source`, a parenthesised function expression, and return its id.

        Raises:
            JsSyntax: the source does not compile.
        """
        fn_id = self._ids.get(source)
        if fn_id is not None:
            self._ids.move_to_end(source)
            return fn_id
        fn_id = self._compile_new(source)
        self._ids[source] = fn_id
        if len(self._ids) > _CACHE_SIZE:
            _, old = self._ids.popitem(last=False)
            self._call(self._forget_js, old)
        return fn_id

    def syntax_error(self, source: str) -> JsSyntax | None:
        """Return the error compiling `source` raises, or None; nothing is kept."""
        if source in self._ids:
            return None
        try:
            fn_id = self._compile_new(source)
        except JsSyntax as error:
            return error
        self._call(self._forget_js, fn_id)
        return None

    def call(self, source: str, args_json: str, may_throw_null: bool = False) -> str | None:
        """Compile `source` (or reuse it) and run it: `compile` then `run` in one request."""
        return self.run(self.compile(source), args_json, may_throw_null=may_throw_null)

    def _compile_new(self, source: str) -> int:
        self._next_id += 1
        failure = self._call(self._compile_js, self._next_id, source)
        if failure is not None:
            message, line = json.loads(failure)
            raise JsSyntax(message, line)
        return self._next_id

    def run(self, fn_id: int, args_json: str, *, may_throw_null: bool = False) -> str | None:
        """Call a compiled function with JSON-encoded arguments.

        quickjs throws null when it cannot even allocate its out-of-memory
        error, so a null exception means memory unless the code may throw null.

        Returns:
            The JSON text of the return value, or None when it has no JSON form
            (undefined, a function).

        Raises:
            JsThrew, JsTimeout, JsOutOfMemory.
        """
        outcome = self._call(self._run_js, fn_id, args_json)
        if outcome.startswith("~"):
            self.broken = True
            outcome = outcome[1:]
        if outcome.startswith("="):
            return outcome[1:]
        if outcome == "":
            return None
        if outcome == "N" and may_throw_null:
            raise JsThrew("Uncaught null")
        if outcome in ("M", "N"):
            self.broken = True
            raise JsOutOfMemory()
        raise JsThrew(outcome[1:])

    def _call(self, fn: quickjs.Object, *args: object) -> str | None:
        try:
            return fn(*args)
        except self._error as error:
            # Only what our own catch cannot see lands here: an interrupt (the
            # time limit), or a failure to allocate even the error object.
            self.broken = True
            text = str(error)
            if "interrupted" in text:
                raise JsTimeout() from None
            if "out of memory" in text or text in ("", "null"):
                raise JsOutOfMemory() from None
            raise JsThrew(text.splitlines()[0]) from None


def serve(limits: Limits, requests: BinaryIO, replies: BinaryIO) -> None:
    """Answer requests until `requests` ends: the helper process's loop.

    A request is a JSON array: `["call", source, args_json, may_throw_null]`,
    `["compile", source]` or `["syntax_error", source]`. The first line written
    is `["ready"]`; then one reply a request (see `outcome`).
    """
    sandbox, cpu = Sandbox(limits), _CpuBound(limits)
    _write(replies, ["ready"])
    for line in requests:
        cpu.renew()
        _write(replies, _answer(sandbox, json.loads(line)))
        if sandbox.broken:
            sandbox = Sandbox(limits)


def outcome(reply: list[Any]) -> Any:
    """The value a reply from `serve` carries, or the exception it stands for raised."""
    kind = reply[0]
    if kind == "ok":
        return reply[1]
    if kind == "syntax":
        raise JsSyntax(reply[1], reply[2])
    if kind == "threw":
        raise JsThrew(reply[1])
    if kind == "timeout":
        raise JsTimeout()
    if kind == "memory":
        raise JsOutOfMemory()
    raise ValueError(f"unknown reply from the JavaScript helper: {kind!r}")


def _answer(sandbox: Sandbox, request: list[Any]) -> list[Any]:
    kind, source, *rest = request
    try:
        if kind == "call":
            return ["ok", sandbox.call(source, *rest)]
        if kind == "compile":
            sandbox.compile(source)
        elif kind == "syntax_error":
            error = sandbox.syntax_error(source)
            if error is not None:
                raise error
        else:
            raise ValueError(f"unknown request to the JavaScript helper: {kind!r}")
        return ["ok", None]
    except JsSyntax as error:
        return ["syntax", error.message, error.line]
    except JsThrew as error:
        return ["threw", str(error)]
    except JsTimeout:
        return ["timeout"]
    except JsOutOfMemory:
        return ["memory"]


def _write(replies: BinaryIO, reply: list[Any]) -> None:
    replies.write(json.dumps(reply, separators=(",", ":")).encode() + b"\n")
    replies.flush()


class _CpuBound:
    """Lets the kernel end this process when one request outlives the parent's deadline.

    The parent kills an overrunning helper itself; this bound is for a helper
    whose parent is gone (killed) while a regular expression backtracks. The
    soft limit moves on in whole seconds, so most requests cost one syscall.
    """

    def __init__(self, limits: Limits):
        self._budget = limits.deadline + 1
        self._hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        self._soft = 0

    def renew(self) -> None:
        """Give the next request at least `deadline` + 1 s of CPU (and at most 2 s more)."""
        usage = resource.getrusage(resource.RUSAGE_SELF)
        wanted = usage.ru_utime + usage.ru_stime + self._budget
        if wanted > self._soft:
            self._soft = math.ceil(wanted) + 1
            soft = self._soft if self._hard == resource.RLIM_INFINITY else min(self._soft, self._hard)
            resource.setrlimit(resource.RLIMIT_CPU, (soft, self._hard))


if __name__ == "__main__":
    # The kernel's CPU limit dumps core; a helper's memory is nobody's business.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    serve(Limits(time=float(sys.argv[1]), memory=int(sys.argv[2])), sys.stdin.buffer, sys.stdout.buffer)
