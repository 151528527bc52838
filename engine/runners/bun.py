"""TypeScript/JavaScript runner: "bun", "deno" and "nativets" scripts all run under bun.

The script is written as main.ts beside a JSON file of its arguments; a small wrapper
module imports it, calls its exported `main` (or `export default function main`) with
the arguments in declaration order, and writes the outcome to a result file, so the
script's own console output (its log lines) can never be mistaken for the result.
A syntax error is reported as a SyntaxError with its line and column.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from engine.runners.job import (
    LogCallback,
    ScriptJob,
    ScriptOutcome,
    failure,
    script_env,
    timeout_message,
    too_large_message,
)
from engine.runners.process import Scratch, describe_exit, run_process, stderr_tail
from engine.runners.signature_ts import ts_param_names

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BUN_VERSION = "1.4.4"
INSTALL_HINT = (
    f"bun is not installed: run `npm install --prefix .tools bun@{BUN_VERSION}` in the "
    "project root (`make run` does it), or point MILLRACE_BUN at a bun executable"
)

# Written once per pool. It reports "R<json>" or "E<error json>" in the result file and
# exits at once, so timers or sockets the script left open cannot keep the step alive.
WRAPPER = r"""
import { readFileSync, writeFileSync } from "node:fs";

const [mainPath, argsPath, resultPath] = process.argv.slice(2);
const report = (kind, text) => writeFileSync(resultPath, kind + text);
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
  const { order, args } = JSON.parse(readFileSync(argsPath, "utf8"));
  const mod = await import(mainPath);
  const main = typeof mod.main === "function" ? mod.main : mod.default;
  if (typeof main !== "function") {
    const error = new Error("the script exports no function main; add `export async function main(...)`");
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
    """Runs TypeScript/JavaScript jobs, one bun process each."""

    def __init__(self, scratch: Scratch, max_result_bytes: int):
        self._scratch = scratch
        self._max_result_bytes = max_result_bytes
        self._wrapper: Path | None = None

    def _wrapper_path(self) -> Path:
        if self._wrapper is None or not self._wrapper.exists():
            self._wrapper = self._scratch.root / "millrace_wrapper.mjs"
            self._wrapper.write_text(WRAPPER)
        return self._wrapper

    async def run(self, job: ScriptJob, on_log: LogCallback | None) -> ScriptOutcome:
        """Run the script under bun; the outcome holds main's result or the error.

        bun's JavaScriptCore reserves far more address space than it uses, so the
        memory cap (an address-space limit) is not applied to bun scripts.
        """
        bun = find_bun()
        if bun is None:
            return failure("ScriptLoadError", INSTALL_HINT)
        job_dir = self._scratch.job_dir()
        try:
            main, args, result = job_dir / "main.ts", job_dir / "args.json", job_dir / "result"
            main.write_text(job.content)
            args.write_text(json.dumps({"order": ts_param_names(job.content), "args": job.args}))
            argv = [bun, str(self._wrapper_path()), str(main), str(args), str(result)]
            env = {**os.environ, **script_env(job)}
            end = await run_process(
                argv, cwd=job.cwd or str(job_dir), env=env, timeout=job.timeout, on_log=on_log
            )
            if end.timed_out:
                return failure("TimeoutError", timeout_message(job.timeout or 0.0))
            if not result.exists():
                tail = stderr_tail(end.stderr) or stderr_tail(end.stdout)
                message = f"bun {describe_exit(end.returncode)} before main returned"
                return failure("ScriptCrashed", f"{message}; last output:\n{tail}" if tail else message)
            return self._read_result(result)
        finally:
            self._scratch.remove(job_dir)

    def _read_result(self, path: Path) -> ScriptOutcome:
        size = path.stat().st_size - 1
        if size > self._max_result_bytes:
            return failure("ResultTooLarge", too_large_message(size, self._max_result_bytes))
        data = path.read_bytes()
        if data[:1] == b"R":
            return ScriptOutcome(ok=True, result=json.loads(data[1:]))
        return ScriptOutcome(ok=False, error=json.loads(data[1:]))

    async def close(self) -> None:
        """Nothing stays running between bun jobs."""
