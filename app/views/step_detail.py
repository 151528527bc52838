"""One step of a run opened on its page: its args, result (a page at a time), logs,
timing and attempts, read from the store for the step's journal record."""

from __future__ import annotations

from typing import Any

from app.views import present

RESULT_PAGE_CHARS = 20_000
"""Characters of a step's result shown at a time."""
LOG_LINES = 500
"""Log lines shown of the opened step (the run's page shows fewer per row)."""


def key_of(store: Any, run_id: str, step_id: str, shown: list[str]) -> str | None:
    """The journal key a graph node opens: the step's own top-level record, else its first
    record among the rows shown (an iteration of the loop it is in)."""
    if store.load_step(run_id, step_id) is not None:
        return step_id
    return next((key for key in shown if key.rsplit("/", 1)[-1] == step_id), None)


def read(store: Any, run_id: str, key: str, page: int = 0) -> dict[str, str] | None:
    """What the step panel shows of the record at `key`; None when there is none."""
    record = store.load_step(run_id, key)
    if record is None:
        return None
    data = record.data or {}
    logs = [entry.line for entry in store.get_step_logs(run_id, [key], LOG_LINES)]
    text = "" if record.result is None else present.pretty_json(record.result, limit=10**9)
    pages = max(1, -(-len(text) // RESULT_PAGE_CHARS))
    page = min(max(page, 0), pages - 1)
    error = record.error if isinstance(record.error, dict) else {}
    return {
        "key": key, "step_id": record.step_id or key, "status": record.status,
        "iteration": "" if record.iteration is None else str(record.iteration),
        "started": present.when(record.started_at), "finished": present.when(record.finished_at),
        "duration": present.duration(record.started_at, record.finished_at) if record.finished_at else "",
        "attempts": str((record.attempts or 0) + 1),  # the record counts the retries made
        "args": present.pretty_json(data["args"]) if "args" in data else "",
        "result": text[page * RESULT_PAGE_CHARS:(page + 1) * RESULT_PAGE_CHARS],
        "result_page": str(page), "result_part": f"part {page + 1} of {pages}" if pages > 1 else "",
        "result_prev": str(page - 1) if page > 0 else "", "result_next": str(page + 1) if page + 1 < pages else "",
        "error": str(error.get("message", "")) if record.error else "",
        "logs": "\n".join(logs[:LOG_LINES]) + ("\n…" if len(logs) > LOG_LINES else ""),
    }
