"""What the TypeScript/JavaScript runners share: the wrapper module and the job they launch.

The script is written as main.ts beside a JSON file of its arguments, in the job's own
folder in the sandbox; a small wrapper module imports it, calls its exported `main` (or
`export default function main`, or the function the job names) with the arguments in
declaration order, and sends the outcome as a frame on fd 3 (the job's connection to the
engine, see zygote.py), so the script's own console output (its log lines) can never be
mistaken for the result. A syntax error is reported as a SyntaxError with its line and
column. The same wrapper runs under bun (bun.py) and Deno (deno.py): each runtime is a
`JsRuntime`, the program and flags that run the wrapper.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Callable

from engine.runners.job import LogCallback, ScriptJob, ScriptOutcome, default_timeout, failure, memory_limit_mb
from engine.runners.process import describe_exit, stderr_tail
from engine.runners.python import outcome_of
from engine.runners.signature_ts import ts_param_names
from engine.runners.zygote import Launch, ZygoteJobs

WRAPPER_FILE = "millrace_wrapper.mjs"
DEDICATED_WRAPPER_FILE = "millrace_dedicated.mjs"

# Written once per pool. It sends an "R" (result JSON) or "E" (error JSON) frame on fd 3
# and exits at once, so timers or sockets the script left open cannot keep the step alive.
# Deno's node:fs knows no inherited descriptors, so there the frame goes through a
# node:net socket on fd 3.
COMMON = r"""
import { readFileSync, readSync, writeSync } from "node:fs";
import { Buffer } from "node:buffer";
import net from "node:net";
import process from "node:process";

const [mainPath, argsPath] = process.argv.slice(2);
const RESULT_FD = 3;
const send = typeof Deno === "undefined"
  ? async (bytes) => { for (let done = 0; done < bytes.length; ) done += writeSync(RESULT_FD, bytes, done); }
  : (bytes) => new Promise((resolve, reject) => {
      const socket = new net.Socket({ fd: RESULT_FD, readable: false, writable: true });
      socket.once("error", reject);
      socket.end(bytes, resolve);
    });
const report = async (kind, text) => {
  const body = Buffer.from(text, "utf8");
  const head = Buffer.alloc(5);
  head.write(kind, 0, "latin1");
  head.writeUInt32BE(body.length, 1);
  await send(Buffer.concat([head, body]));
};
const ownFrame = (line) => line.includes(process.argv[1]);
const located = (line, column, message) => {
  const lineText = readFileSync(mainPath, "utf8").split("\n")[line - 1] ?? "";
  const caret = " ".repeat(Math.max(column - 1, 0)) + "^";
  return { name: "SyntaxError", message: `${message} (line ${line}, column ${column})`, stack: `${lineText}\n${caret}` };
};
const describe = (error) => {
  const where = error && error.position;  // bun's BuildMessage: a syntax error in main.ts
  if (where && error.name === "BuildMessage") return located(where.line, where.column, error.message);
  const text = String(error && error.message !== undefined ? error.message : error);
  const syntax = /^(?:SyntaxError: )?([^\n]*?)(?:\n[\s\S]*?)?\s+at file:\/\/\S*?\/main\.ts:(\d+):(\d+)/.exec(text);
  if (syntax && (error.name === "SyntaxError" || text.startsWith("SyntaxError: ")))  // Deno's
    return located(Number(syntax[2]), Number(syntax[3]), syntax[1]);
  return {
    name: String((error && error.name) || "Error"),
    message: text,
    stack: String((error && error.stack) || "").split("\n").filter((l) => !ownFrame(l)).join("\n"),
  };
};

async function callMain(mod, { order, args, entry }) {
  const main = entry !== "main" ? mod[entry] : typeof mod.main === "function" ? mod.main : mod.default;
  if (typeof main !== "function") {
    const error = new Error(`the script exports no function ${entry}; add \`export async function ${entry}(...)\``);
    error.name = "ScriptLoadError";
    throw error;
  }
  const given = (name) => (name !== null && Object.hasOwn(args, name) ? args[name] : undefined);
  return await main(...order.map(given));
}

const answer = async (compute) => {
  let outcome;
  try {
    outcome = { ok: true, result: await compute() };
  } catch (error) {
    outcome = { ok: false, error: describe(error) };
  }
  if (outcome.ok) {
    let text;
    try {
      text = JSON.stringify(outcome.result === undefined ? null : outcome.result);
    } catch (error) {
      outcome = { ok: false, error: { name: "TypeError", message: "result of main is not JSON: " + error.message, stack: "" } };
    }
    if (outcome.ok) await report("R", text === undefined ? "null" : text);
  }
  if (!outcome.ok) await report("E", JSON.stringify(outcome.error));
};
"""

WRAPPER = COMMON + r"""
await answer(async () => callMain(await import(mainPath), JSON.parse(readFileSync(argsPath, "utf8"))));
process.exit(0);
"""

# Dedicated mode (dedicated.py): the script is imported once and main called per call; a
# call is a 4-byte length and its JSON {"entry", "order", "args", "env"} on fd 3, read
# blocking (bun reads no socket fd asynchronously), so between calls the worker's timers wait.
DEDICATED_WRAPPER = COMMON + r"""
const readExactly = (size) => {
  const buffer = Buffer.alloc(size);
  for (let got = 0; got < size; ) {
    const count = readSync(RESULT_FD, buffer, got, size - got);
    if (count === 0) return null;
    got += count;
  }
  return buffer;
};
let mod;
for (;;) {
  const head = readExactly(4);
  const body = head && readExactly(head.readUInt32BE(0));
  if (body === null) break;
  const call = JSON.parse(body.toString("utf8"));
  for (const name of Object.keys(process.env)) if (!Object.hasOwn(call.env, name)) delete process.env[name];
  Object.assign(process.env, call.env);
  await answer(async () => callMain(mod ??= await import(mainPath), call));
}
process.exit(0);
"""


@dataclass(frozen=True)
class JsRuntime:
    """A JavaScript runtime that runs the wrapper: how to find it and start it."""

    name: str
    find: Callable[[], str | None]
    """The executable, or None when it is not installed."""
    install_hint: str
    """What to do when it is not installed."""
    flags: tuple[str, ...] = ()
    """Arguments between the executable and the wrapper (`run --allow-all` for Deno)."""
    env: dict[str, str] = field(default_factory=dict)
    """More environment for every job (where Deno keeps its cache, say)."""
    source: Callable[[str], str] = lambda text: text
    """The script as the runtime is given it, when it has installed packages."""


class JsRunner:
    """Runs TypeScript/JavaScript jobs: a child of the pool's zygote becomes the runtime."""

    def __init__(self, jobs: ZygoteJobs, max_result_bytes: int, runtime: JsRuntime):
        self._jobs = jobs
        self._max_result_bytes = max_result_bytes
        self._runtime = runtime
        self._wrapper: str | None = None

    def _wrapper_path(self, name: str = WRAPPER_FILE, text: str = WRAPPER) -> str:
        """Where jobs find a wrapper (written into the pool's runtime folder once)."""
        if not (self._jobs.runtime / name).exists():
            (self._jobs.runtime / name).write_text(text)
        return self._jobs.runtime_path(name)

    async def run(self, job: ScriptJob, on_log: LogCallback | None, env: dict[str, str],
                  node_modules: str | None = None) -> ScriptOutcome:
        """Run the script under the runtime; the outcome holds main's result or the error.

        JavaScript engines reserve far more address space than they use, so no
        address-space cap is set; the job's cgroup caps its memory where the machine
        has cgroups.

        Args:
            node_modules: the installed packages of the step's lock, as the job sees them;
                linked beside the script, where both runtimes look.
        """
        launch = self.launch(job, env, node_modules)
        if isinstance(launch, ScriptOutcome):
            return launch
        ended = await self._jobs.run(launch, on_log)
        if ended.frame is None and not ended.timed_out and not ended.out_of_memory and ended.too_large is None:
            tail = stderr_tail(ended.stderr) or stderr_tail(ended.stdout)
            how = "ended" if ended.exit_code is None else describe_exit(ended.exit_code)
            message = f"{self._runtime.name} {how} before main returned"
            return failure("ScriptCrashed", f"{message}; last output:\n{tail}" if tail else message)
        return outcome_of(ended, job, self._max_result_bytes)

    def launch(self, job: ScriptJob, env: dict[str, str], node_modules: str | None = None, *,
               dedicated: bool = False) -> Launch | ScriptOutcome:
        """What the zygote's child is sent to run the job (a dedicated worker: the script
        without its args, which come with each call); a failure when the runtime is missing."""
        executable = self._runtime.find()
        if executable is None:
            return failure("ScriptLoadError", self._runtime.install_hint)
        content = self._runtime.source(job.content) if node_modules else job.content
        if dedicated:
            argv = [self._wrapper_path(DEDICATED_WRAPPER_FILE, DEDICATED_WRAPPER), "{job_dir}/main.ts"]
            files = {"main.ts": content}
        else:
            argv = [self._wrapper_path(), "{job_dir}/main.ts", "{job_dir}/args.json"]
            files = {"main.ts": content, "args.json": json.dumps({**self.call_of(job), "args": job.args})}
        payload = {"exec": [os.path.realpath(executable), *self._runtime.flags, *argv], "files": files,
                   "env": {**env, **self._runtime.env}, "cwd": job.cwd, "result_fd": True}
        if node_modules:
            payload["links"] = {"node_modules": node_modules}
        return Launch(payload, job.timeout or default_timeout(), memory_limit_mb(job), self._max_result_bytes,
                      ends_with_frame=True)

    def call_of(self, job: ScriptJob) -> dict:
        """What the wrapper needs of a call beside its args: the entry point and the order of
        its parameters (main is called positionally)."""
        return {"order": ts_param_names(job.content, job.entry), "entry": job.entry}

    def environment(self, env: dict[str, str]) -> dict[str, str]:
        """A job's environment under this runtime."""
        return {**env, **self._runtime.env}


def install_dir(runtime: JsRuntime) -> str | None:
    """The folder holding the runtime's executable (shown read-only in the sandbox), if installed."""
    executable = runtime.find()
    return os.path.dirname(os.path.realpath(executable)) if executable else None
