"""Durable storage of runs, step journals, logs, flows, scripts and workers.

SQLite (WAL) by default, PostgreSQL through `DATABASE_URL`. See `Store`.
"""

from __future__ import annotations

from engine.store.db import resolve_url
from engine.store.store import Store
from engine.store.tables import (
    TERMINAL_STATUSES,
    FlowVersion,
    LogEntry,
    Run,
    RunStatus,
    ScriptVersion,
    StepRecord,
    StepStatus,
    Worker,
)

__all__ = [
    "TERMINAL_STATUSES",
    "FlowVersion",
    "LogEntry",
    "Run",
    "RunStatus",
    "ScriptVersion",
    "StepRecord",
    "StepStatus",
    "Store",
    "Worker",
    "resolve_url",
]
