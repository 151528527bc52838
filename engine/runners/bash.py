"""Bash runner: the script runs as `bash main.sh ARGS...` in a sandboxed job of its own.

Arguments are positional, in the order the script reads them (`name="$1"`,
`other="${2:-default}"`); every stdout line is a log line and the last non-empty one
is the result (JSON when it parses, else the string).
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from typing import Any

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
from engine.runners.process import describe_exit, stderr_tail
from engine.runners.python import out_of_memory
from engine.runners.signature_python import object_schema
from engine.runners.zygote import Launch, ZygoteJobs

_PARAM = re.compile(
    r"""^\s*(?:local\s+|export\s+|readonly\s+)?(\w+)=
        (?P<q>"?)\$(?:(?P<bare>\d)|\{(?P<num>\d+)(?::?-(?P<default>[^}]*))?\})(?P=q)\s*(?:[;#]|$)""",
    re.MULTILINE | re.VERBOSE,
)
BASH = shutil.which("bash") or "/bin/bash"


@dataclass
class BashParam:
    """One positional argument the script reads into a variable."""

    position: int
    name: str
    default: str | None


def bash_params(content: str) -> list[BashParam]:
    """The script's positional arguments, ordered by position (first mention wins)."""
    found: dict[int, BashParam] = {}
    for match in _PARAM.finditer(content):
        position = int(match["bare"] or match["num"])
        if position > 0 and position not in found:
            default = match["default"]
            if default is not None:
                default = default.strip("'\"")
            found[position] = BashParam(position, match[1], default)
    return [found[position] for position in sorted(found)]


def bash_schema(content: str) -> dict:
    """JSON Schema of a bash script's arguments: one string per positional variable."""
    properties: dict[str, dict] = {}
    required = []
    for param in bash_params(content):
        properties[param.name] = {"type": "string"}
        if param.default is None:
            required.append(param.name)
        else:
            properties[param.name]["default"] = param.default
    return object_schema(properties, required)


def as_argument(value: Any) -> str:
    """A JSON value as bash sees it: strings as they are, the rest as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def positional_args(content: str, args: dict[str, Any]) -> list[str]:
    """The values of $1, $2, ... for this script; gaps and missing args are empty.

    Missing args at the end are left out rather than passed empty, so that both
    `${3:-default}` and `${3-default}` see them unset.
    """
    params = [p for p in bash_params(content) if p.name in args]
    values = [""] * (params[-1].position if params else 0)
    for param in params:
        values[param.position - 1] = as_argument(args[param.name])
    return values


def read_result(line: str) -> Any:
    """The last stdout line as a result: JSON when it is JSON, else the text."""
    try:
        return json.loads(line, parse_constant=_not_json)
    except ValueError:
        return line


def _not_json(word: str) -> Any:
    """NaN and Infinity are words to JSON, not numbers (Python's json would take them)."""
    raise ValueError(word)


class BashRunner:
    """Runs "bash" jobs: a child of the pool's zygote becomes `bash main.sh ARGS...`."""

    def __init__(self, jobs: ZygoteJobs, max_result_bytes: int):
        self._jobs = jobs
        self._max_result_bytes = max_result_bytes

    async def run(self, job: ScriptJob, on_log: LogCallback | None, env: dict[str, str]) -> ScriptOutcome:
        """Run the script to its end; the outcome holds its last line or the error."""
        memory = memory_limit_mb(job)
        argv = [BASH, "{job_dir}/main.sh", *positional_args(job.content, job.args)]
        payload = {"exec": argv, "files": {"main.sh": job.content}, "env": env, "cwd": job.cwd,
                   "memory_mb": memory}
        launch = Launch(payload, job.timeout or default_timeout(), memory, self._max_result_bytes, ends_with_frame=False)
        end = await self._jobs.run(launch, on_log)
        if end.timed_out:
            return failure("TimeoutError", timeout_message(job))
        if end.out_of_memory:
            return out_of_memory(job)
        if end.exit_code != 0:
            tail = stderr_tail(end.stderr) or stderr_tail(end.stdout)
            how = "ended" if end.exit_code is None else describe_exit(end.exit_code)
            message = f"bash {how}"
            return failure("ExitCodeError", f"{message}; last output:\n{tail}" if tail else message)
        size = len(end.stdout.last_line.encode())
        if size > self._max_result_bytes:
            return failure("ResultTooLarge", too_large_message(size, self._max_result_bytes))
        last = end.stdout.last_line.strip()
        result = read_result(last) if last else None
        return ScriptOutcome(ok=True, result=result)
