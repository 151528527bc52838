"""Runners: run one script job in its language, and read a script's arguments.

Python runs in children forked from a warm zygote process, bash as a subprocess,
TypeScript/JavaScript under bun, "deno" scripts under Deno, and "postgresql"/"duckdb"
steps in a child that loads the database driver; user code never runs in the engine's
process.
"""

from __future__ import annotations

from engine.runners.job import LogLine, ScriptJob, ScriptOutcome
from engine.runners.pool import RunnerPool
from engine.runners.signature import SUPPORTED_LANGUAGES, check_script, script_schema

__all__ = [
    "SUPPORTED_LANGUAGES",
    "LogLine",
    "RunnerPool",
    "ScriptJob",
    "ScriptOutcome",
    "check_script",
    "script_schema",
]
