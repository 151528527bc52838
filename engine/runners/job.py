"""What a runner is given (ScriptJob) and what it gives back (ScriptOutcome, LogLine)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

DEFAULT_MEMORY_MB = 2048
DEFAULT_MAX_RESULT_BYTES = 64 * 2**20
DEFAULT_TIMEOUT = 24 * 3600.0


@dataclass
class LogLine:
    """One line a script wrote, stamped when the engine received it."""

    ts: float
    """Seconds since the epoch."""
    stream: str
    """"stdout" or "stderr"."""
    line: str
    """The text, without its trailing newline."""


@dataclass
class ScriptJob:
    """One script to run once, with its arguments and limits."""

    language: str
    """One of SUPPORTED_LANGUAGES: "python3", "bash", "bun", "deno", "nativets", "postgresql", "duckdb"."""
    content: str
    """The script source."""
    args: dict[str, Any]
    """Arguments of `main` by name (bash: by the names of its positional variables)."""
    job_id: str
    """Identifies the run of this step; exported to the script as MILLRACE_JOB_ID."""
    timeout: float | None = None
    """Seconds before the script is killed; None means MILLRACE_SCRIPT_TIMEOUT (24 h)."""
    memory_limit_mb: int | None = None
    """Address-space cap in MiB; None means MILLRACE_SCRIPT_MEMORY_MB or 2048."""
    cwd: str | None = None
    """Working directory (may hold ./shared); None means a fresh temporary directory."""
    env: dict[str, str] = field(default_factory=dict)
    """Extra environment variables for the script."""
    entry: str = "main"
    """The function of the script to call (a preprocessor step's may be `preprocessor`)."""
    resources: dict[str, Any] = field(default_factory=dict)
    """Values of the resources the script's text names by path (a SQL step's `-- database`
    line or `ATTACH '$res:...'`), resolved by the engine: the job cannot reach the vault."""
    lock: str | None = None
    """The exact dependencies to run with (a Python or npm lock, see engine/deps/locks.py);
    None: resolved from the script's imports before it runs."""
    path: str | None = None
    """The script's workspace path (`f/folder/name`), against which relative imports resolve."""
    modules: dict[str, str] = field(default_factory=dict)
    """Workspace scripts a Python script imports: path (`f/folder/x`) → source."""
    dedicated: bool = False
    """Run in a warm worker of this script version that calls main again per job (its
    script's or flow's `dedicated_worker: true`; see engine/runners/dedicated.py)."""


@dataclass
class ScriptOutcome:
    """How a script run ended: a JSON result, or an error object."""

    ok: bool
    result: Any = None
    """main's return value as JSON data, when ok."""
    error: dict | None = None
    """{"name", "message", "stack"} when not ok."""
    duration: float = 0.0
    """Wall-clock seconds the run took."""


LogCallback = Callable[[LogLine], None]


def memory_limit_mb(job: ScriptJob) -> int:
    """The memory cap for `job` in MiB: its own, else the environment's, else 2048."""
    if job.memory_limit_mb is not None:
        return job.memory_limit_mb
    return default_memory_mb()


def default_memory_mb() -> int:
    """The memory cap of a job that names none: MILLRACE_SCRIPT_MEMORY_MB, else 2048 MiB."""
    return int(os.environ.get("MILLRACE_SCRIPT_MEMORY_MB") or DEFAULT_MEMORY_MB)


def default_max_result_bytes() -> int:
    """The result size limit: MILLRACE_MAX_RESULT_BYTES, else 64 MiB."""
    return int(os.environ.get("MILLRACE_MAX_RESULT_BYTES") or DEFAULT_MAX_RESULT_BYTES)


def failure(name: str, message: str, stack: str = "", *, duration: float = 0.0) -> ScriptOutcome:
    """A failed outcome carrying the error object `{"name", "message", "stack"}`."""
    return ScriptOutcome(
        ok=False, error={"name": name, "message": message, "stack": stack}, duration=duration
    )


def too_large_message(size: int, limit: int) -> str:
    """Say that a result of `size` bytes breaks the `limit`, and how to raise it."""
    return (
        f"result of main is {size:,} bytes as JSON, over the limit of {limit:,} bytes; "
        "return less data (write big data to a file) or raise MILLRACE_MAX_RESULT_BYTES"
    )


def default_timeout() -> float:
    """The wall-time limit of a job whose step sets none: MILLRACE_SCRIPT_TIMEOUT, else 24 h."""
    return float(os.environ.get("MILLRACE_SCRIPT_TIMEOUT") or DEFAULT_TIMEOUT)


def timeout_message(job: ScriptJob) -> str:
    """Say that the script ran past its time limit and was killed."""
    if job.timeout is None:
        return (f"script timed out after {default_timeout():g} s (MILLRACE_SCRIPT_TIMEOUT, the limit of a step "
                "without a timeout of its own) and was killed")
    return f"script timed out after {job.timeout:g} s (the step's timeout) and was killed"


def script_env(job: ScriptJob) -> dict[str, str]:
    """The variables a script sees beyond the engine's own environment."""
    return {"MILLRACE_JOB_ID": job.job_id, "WM_JOB_ID": job.job_id, **job.env}
