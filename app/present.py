"""Engine records as the small dicts of strings pages show (pure functions)."""

from __future__ import annotations

import json
import time
from typing import Any

MAX_JSON_CHARS = 20_000
"""Longer results and args are cut for display (the REST API serves them whole)."""


def when(ts: float | None) -> str:
    """A local date and time, or "" when there is none."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else ""


def duration(start: float | None, end: float | None) -> str:
    """A short human duration such as "0.42 s", "3 min 05 s"; "" without a start."""
    if not start:
        return ""
    seconds = max(0.0, (end or time.time()) - start)
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def pretty_json(value: Any, limit: int = MAX_JSON_CHARS) -> str:
    """Indented JSON, cut at `limit` characters with a note saying so."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if len(text) > limit:
        return f"{text[:limit]}\n… ({len(text) - limit} more characters)"
    return text


def run_row(run: Any) -> dict[str, str]:
    """One line of a runs table."""
    return {
        "id": run.id,
        "short_id": run.id[:8],
        "path": run.path or "(ad hoc)",
        "kind": run.kind,
        "status": run.status,
        "trigger": run.trigger or "",
        "created": when(run.created_at),
        "started": when(run.started_at),
        "duration": duration(run.started_at, run.finished_at),
    }


def flow_row(row: Any) -> dict[str, str]:
    """One line of the flows table."""
    document = row.document or {}
    modules = (document.get("value") or {}).get("modules") or []
    return {
        "path": row.path,
        "summary": row.summary or document.get("summary") or "",
        "version": str(row.version),
        "steps": str(len(modules)),
        "edited": when(row.created_at),
    }


def script_row(row: Any) -> dict[str, str]:
    """One line of the scripts table."""
    return {
        "path": row.path,
        "language": row.language,
        "summary": row.summary or "",
        "version": str(row.version),
        "edited": when(row.created_at),
    }


def step_row(step: Any, log_lines: list[str]) -> dict[str, str]:
    """One step of a run with its log text."""
    logs = "\n".join(log_lines)
    error = step.error or {}
    return {
        "key": step.key,
        "step_id": step.step_id or step.key,
        "iteration": "" if step.iteration is None else str(step.iteration),
        "status": step.status,
        "attempts": str(step.attempts or 0),
        "duration": duration(step.started_at, step.finished_at) if step.finished_at else "",
        "error": str(error.get("message", "")) if isinstance(error, dict) else str(error),
        "logs": logs,
    }
