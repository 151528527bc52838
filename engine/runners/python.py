"""Python 3 runner: each job runs in a child forked from the warm zygote, inside the sandbox.

The zygote (zygote.py, inside/) has already imported the common runtime, so forking it
is far cheaper than starting Python; the child loads the script as module `main`, calls
`main` with the job's arguments and answers its result or error. Output arrives live
(from `print` as much as from a C library or a subprocess), and when the job ends every
process it started ends with it.
"""

from __future__ import annotations

from engine.runners.job import (
    LogCallback,
    ScriptJob,
    ScriptOutcome,
    failure,
    memory_limit_mb,
    default_timeout,
    timeout_message,
    too_large_message,
)
from engine.runners.process import describe_exit
from engine.runners.zygote import Ended, Launch, ZygoteJobs
from engine.runners.zygotes import Flavour

MODULES_DIR = "modules"
"""Where in the job's folder the workspace scripts it imports are written (inside/pyjob.py)."""


class PythonRunner:
    """Runs "python3" jobs in children of the pool's zygote."""

    def __init__(self, jobs: ZygoteJobs, max_result_bytes: int):
        self._jobs = jobs
        self._max_result_bytes = max_result_bytes

    async def run(self, job: ScriptJob, on_log: LogCallback | None, env: dict[str, str],
                  flavour: Flavour | None = None) -> ScriptOutcome:
        """Run one job to its end; the outcome holds main's result or the error.

        Args:
            job: the script and its arguments.
            on_log: receives each output line as it is written.
            env: the job's whole environment.
            flavour: the zygote of the job's dependency lock (None: the default one).
        """
        launch = launch_of(job, env, self._max_result_bytes)
        return outcome_of(await self._jobs.run(launch, on_log, flavour), job, self._max_result_bytes)


def launch_of(job: ScriptJob, env: dict[str, str], max_result_bytes: int) -> Launch:
    """What the zygote's child is sent to run a Python job (inside/pyjob.py)."""
    memory = memory_limit_mb(job)
    payload = {"content": job.content, "entry": job.entry, "args": job.args, "env": env, "cwd": job.cwd,
               "memory_mb": memory, "max_result_bytes": max_result_bytes}
    if job.modules or job.path:
        payload.update(modules=True, package=".".join(job.path.split("/")[:-1]) if job.path else None,
                       files={f"{MODULES_DIR}/{path}.py": source for path, source in job.modules.items()})
    return Launch(payload, job.timeout or default_timeout(), memory, max_result_bytes, ends_with_frame=True)


def outcome_of(ended: Ended, job: ScriptJob, max_result_bytes: int) -> ScriptOutcome:
    """The outcome of a job that answers with a result or error frame (Python, bun)."""
    if ended.frame is not None:
        kind, data = ended.frame
        return ScriptOutcome(ok=True, result=data) if kind == b"R" else ScriptOutcome(ok=False, error=data)
    if ended.too_large is not None:
        return failure("ResultTooLarge", too_large_message(ended.too_large, max_result_bytes))
    if ended.timed_out:
        return failure("TimeoutError", timeout_message(job))
    if ended.out_of_memory:
        return out_of_memory(job)
    if not ended.started:
        return failure("ScriptCrashed", "the script process ended before it started")
    how = "ended" if ended.exit_code is None else describe_exit(ended.exit_code)
    return failure("ScriptCrashed", f"the script process {how} before main returned")


def out_of_memory(job: ScriptJob) -> ScriptOutcome:
    """The failure of a job whose processes together broke its memory cap."""
    return failure("MemoryError", (
        f"the script ran out of memory: its processes together may use at most {memory_limit_mb(job):,} MiB; "
        "use less memory or raise MILLRACE_SCRIPT_MEMORY_MB"))
