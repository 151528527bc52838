"""TypeScript/JavaScript runner: "bun", "deno" and "nativets" scripts all run under bun.

The script is written as main.ts beside a JSON file of its arguments, in the job's own
folder in the sandbox; a small wrapper module imports it, calls its exported `main` (or
`export default function main`) with the arguments in declaration order, and sends the
outcome as a frame on fd 3 (the job's connection to the engine, see zygote.py), so the
script's own console output (its log lines) can never be mistaken for the result.
A syntax error is reported as a SyntaxError with its line and column.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from engine.runners.job import LogCallback, ScriptJob, ScriptOutcome, default_timeout, failure, memory_limit_mb
from engine.runners.process import describe_exit, stderr_tail
from engine.runners.python import outcome_of
from engine.runners.signature_ts import ts_param_names
from engine.runners.zygote import Launch, ZygoteJobs

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BUN_VERSION = "1.4.4"
WRAPPER_FILE = "millrace_wrapper.mjs"
INSTALL_HINT = (
    f"bun is not installed: run `npm install --prefix .tools bun@{BUN_VERSION}` in the "
    "project root (`make run` does it), or point MILLRACE_BUN at a bun executable"
)

# Written once per pool. It sends an "R" (result JSON) or "E" (error JSON) frame on fd 3
# and exits at once, so timers or sockets the script left open cannot keep the step alive.
WRAPPER = r"""
import { readFileSync, writeSync } from "node:fs";

const [mainPath, argsPath] = process.argv.slice(2);
const RESULT_FD = 3;
const writeAll = (buffer) => {
  for (let done = 0; done < buffer.length; ) done += writeSync(RESULT_FD, buffer, done);
};
const report = (kind, text) => {
  const body = Buffer.from(text, "utf8");
  const head = Buffer.alloc(5);
  head.write(kind, 0, "latin1");
  head.writeUInt32BE(body.length, 1);
  writeAll(head);
  writeAll(body);
};
const ownFrame = (line) => line.includes(process.argv[1]);
const describe = (error) => {
  const where = error && error.position;  // bun's BuildMessage: a syntax error in main.ts
  if (where && error.name === "BuildMessage") {
    const caret = " ".repeat(Math.max(where.column - 1, 0)) + "^";
    return {
      name: "SyntaxError",
      message: `${error.message} (line ${where.line}, column ${where.column})`,
      stack: `${where.lineText}\n${caret}`,
    };
  }
  return {
    name: String((error && error.name) || "Error"),
    message: String(error && error.message !== undefined ? error.message : error),
    stack: String((error && error.stack) || "").split("\n").filter((l) => !ownFrame(l)).join("\n"),
  };
};

async function call() {
  const { order, args, entry } = JSON.parse(readFileSync(argsPath, "utf8"));
  const mod = await import(mainPath);
  const main = entry !== "main" ? mod[entry] : typeof mod.main === "function" ? mod.main : mod.default;
  if (typeof main !== "function") {
    const error = new Error(`the script exports no function ${entry}; add \`export async function ${entry}(...)\``);
    error.name = "ScriptLoadError";
    throw error;
  }
  const given = (name) => (name !== null && Object.hasOwn(args, name) ? args[name] : undefined);
  return await main(...order.map(given));
}

let outcome;
try {
  outcome = { ok: true, result: await call() };
} catch (error) {
  outcome = { ok: false, error: describe(error) };
}
if (outcome.ok) {
  let text;
  try {
    text = JSON.stringify(outcome.result === undefined ? null : outcome.result);
    report("R", text === undefined ? "null" : text);
  } catch (error) {
    report("E", JSON.stringify({ name: "TypeError", message: "result of main is not JSON: " + error.message, stack: "" }));
  }
} else {
  report("E", JSON.stringify(outcome.error));
}
process.exit(0);
"""


def find_bun() -> str | None:
    """The bun to use: the project's `.tools` install, then MILLRACE_BUN, then PATH."""
    local = PROJECT_ROOT / ".tools" / "node_modules" / ".bin" / "bun"
    if os.access(local, os.X_OK):
        return str(local)
    configured = os.environ.get("MILLRACE_BUN")
    if configured and os.access(configured, os.X_OK):
        return configured
    return shutil.which("bun")


class BunRunner:
    """Runs TypeScript/JavaScript jobs: a child of the pool's zygote becomes bun."""

    def __init__(self, jobs: ZygoteJobs, max_result_bytes: int):
        self._jobs = jobs
        self._max_result_bytes = max_result_bytes
        self._wrapper: str | None = None

    def _wrapper_path(self) -> str:
        """Where jobs find the wrapper (written into the pool's runtime folder once)."""
        if self._wrapper is None or not (self._jobs.runtime / WRAPPER_FILE).exists():
            (self._jobs.runtime / WRAPPER_FILE).write_text(WRAPPER)
            self._wrapper = self._jobs.runtime_path(WRAPPER_FILE)
        return self._wrapper

    async def run(self, job: ScriptJob, on_log: LogCallback | None, env: dict[str, str]) -> ScriptOutcome:
        """Run the script under bun; the outcome holds main's result or the error.

        bun's JavaScriptCore reserves far more address space than it uses, so no
        address-space cap is set for bun; the job's cgroup caps its memory where the
        machine has cgroups.
        """
        bun = find_bun()
        if bun is None:
            return failure("ScriptLoadError", INSTALL_HINT)
        arguments = json.dumps({"order": ts_param_names(job.content, job.entry), "args": job.args, "entry": job.entry})
        argv = [os.path.realpath(bun), self._wrapper_path(), "{job_dir}/main.ts", "{job_dir}/args.json"]
        payload = {"exec": argv, "files": {"main.ts": job.content, "args.json": arguments}, "env": env,
                   "cwd": job.cwd, "result_fd": True}
        memory = memory_limit_mb(job)
        launch = Launch(payload, job.timeout or default_timeout(), memory, self._max_result_bytes, ends_with_frame=True)
        ended = await self._jobs.run(launch, on_log)
        if ended.frame is None and not ended.timed_out and not ended.out_of_memory and ended.too_large is None:
            tail = stderr_tail(ended.stderr) or stderr_tail(ended.stdout)
            how = "ended" if ended.exit_code is None else describe_exit(ended.exit_code)
            message = f"bun {how} before main returned"
            return failure("ScriptCrashed", f"{message}; last output:\n{tail}" if tail else message)
        return outcome_of(ended, job, self._max_result_bytes)


def bun_install_dir() -> str | None:
    """The folder holding the bun executable (shown read-only in the sandbox), if bun is installed."""
    bun = find_bun()
    return os.path.dirname(os.path.realpath(bun)) if bun else None
