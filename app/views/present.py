"""Engine records as the small dicts of strings pages show (pure functions)."""

from __future__ import annotations

import json
import math
import time
from typing import Any

from app.views import triggers

MAX_JSON_CHARS = 20_000
"""Longer results and args are cut for display (the REST API serves them whole)."""
MAX_JSON_ITEMS = 2_000
"""Items (array elements, object fields) looked at to show a value: a loop's result of a
million items is shown by its first ones, without writing out the rest."""


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
    """Indented JSON, cut at `limit` characters with a note saying so (and at
    MAX_JSON_ITEMS items, each cut array or object saying how many more it has)."""
    text = json.dumps(_first_items(value, [MAX_JSON_ITEMS]), indent=2, ensure_ascii=False, default=str)
    if len(text) > limit:
        return f"{text[:limit]}\n… ({len(text) - limit} more characters)"
    return text


def _first_items(value: Any, budget: list[int]) -> Any:
    """`value` with arrays and objects cut once `budget[0]` items have been taken."""
    if isinstance(value, list):
        out: list[Any] = []
        for index, item in enumerate(value):
            if budget[0] <= 0:
                out.append(f"… {len(value) - index:,} more items")
                break
            budget[0] -= 1
            out.append(_first_items(item, budget))
        return out
    if isinstance(value, dict):
        shown: dict[str, Any] = {}
        for index, (key, item) in enumerate(value.items()):
            if budget[0] <= 0:
                shown["…"] = f"{len(value) - index:,} more fields"
                break
            budget[0] -= 1
            shown[key] = _first_items(item, budget)
        return shown
    return value


def run_row(run: Any) -> dict[str, str]:
    """One line of a runs table."""
    return {
        "id": run.id,
        "short_id": run.id[:8],
        "path": run.path or "(ad hoc)",
        "kind": run.kind,
        "status": run.status,
        "trigger": triggers.label(run.trigger),
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


def timeline(run: Any, steps: list[Any], now: float | None = None,
             counts: dict[str, int] | None = None) -> list[dict[str, str]]:
    """One bar per step record shown (a loop's, and those of the iterations on its page),
    in the order given (the flow's: a loop before its iterations), placed on the run's
    span; a loop's label says how many iterations it has (`counts`).

    In a restarted run, the records reused from the run it restarts (they began before
    this run did) are marked "reused" and drawn at its start, outside its span: their
    times are the other run's.

    `left` and `width` are CSS percentages of the span from the run's start to its end
    (or to now, while it runs).
    """
    counts = counts or {}
    timed = [s for s in steps if s.started_at]
    if not timed:
        return []
    reused = {s.key for s in timed if _reused(run, s)}
    fresh = [s for s in timed if s.key not in reused] or timed
    start = min([run.started_at or fresh[0].started_at] + [s.started_at for s in fresh])
    ends = [s.finished_at or s.started_at for s in fresh] + [run.finished_at or now or time.time()]
    span = max(max(ends) - start, 1e-6)
    bars = []
    for step in timed:
        end = step.finished_at or run.finished_at or now or time.time()
        left = 0.0 if step.key in reused else (step.started_at - start) / span * 100
        width = 0.4 if step.key in reused else max((end - step.started_at) / span * 100, 0.4)
        bars.append({
            "key": step.key,
            "label": step.key.replace("/", " › ") + (f" ×{counts[step.key]:,}" if step.key in counts else ""),
            "status": step.status,
            "reused": "true" if step.key in reused else "false",
            "left": f"{min(left, 99.6):.2f}%",
            "width": f"{min(width, 100 - min(left, 99.6)):.2f}%",
            "duration": duration(step.started_at, end) + (" (reused)" if step.key in reused else ""),
            "indent": f"{step.key.count('/') // 2 * 0.75}rem",
        })
    return bars


def _reused(run: Any, step: Any) -> bool:
    """Whether a restarted run's record is one it copied from the run it restarts."""
    restarted = bool((run.state or {}).get("restarted_from"))
    return restarted and run.started_at is not None and step.started_at < run.started_at


def loop_count(loop: Any, last_shown: int | None = None) -> int:
    """How many iterations the loop whose record is `loop` has run (so far): from the
    progress it keeps, its result array, or the last iteration shown, whichever says most."""
    progress = (loop.data or {}).get("progress") or {}
    counts = [int(progress.get("iterations") or 0), (last_shown + 1) if last_shown is not None else 0]
    if isinstance(loop.result, list):
        counts.append(len(loop.result))
    return max(counts)


def loop_summary(loop: Any, count: int) -> str:
    """A loop in one line: "1,000,000 iterations: 999,990 success, 10 failure" ("so far" while it runs)."""
    statuses = ((loop.data or {}).get("progress") or {}).get("statuses") or {}
    parts = [f"{number:,} {status}" for status, number in sorted(statuses.items()) if number]
    text = f"{count:,} iteration{'' if count == 1 else 's'}" + (f": {', '.join(parts)}" if parts else "")
    return text + (" so far" if loop.status == "running" else "")


def pager(start: int, count: int, size: int) -> dict[str, str]:
    """Where the page of iterations `start`..`start + size - 1` of `count` is, and the first
    iteration of the first, previous, next and last pages ("" where there is none to go to)."""
    last = max(count - 1, 0) // size * size
    shown_to = min(start + size, count)
    return {
        "range": f"{start + 1:,}–{shown_to:,} of {count:,}" if shown_to > start else f"none of {count:,}",
        "first": "0" if start > 0 else "",
        "prev": str(max(start - size, 0)) if start > 0 else "",
        "next": str(start + size) if start + size < count else "",
        "last": str(last) if start < last else "",
    }


def log_pager(start: int, shown: int, more: bool, size: int) -> dict[str, str]:
    """Which of a step's log lines are shown ("lines 201–400"; "" when all fit on one page)
    and where its earlier and later pages start ("" where there is none)."""
    if start <= 0 and not more:
        return {"log_range": "", "log_prev": "", "log_next": ""}
    return {"log_range": f"lines {start + 1:,}–{start + shown:,}" if shown else f"no lines after {start:,}",
            "log_prev": str(max(start - size, 0)) if start > 0 else "",
            "log_next": str(start + size) if more else ""}


def loop_failures(statuses: dict[str, str], loops: list[Any]) -> dict[str, str]:
    """Graph statuses with each step that failed in some iteration of a loop (as the loop's
    progress counts them, shown or not) coloured as a failure."""
    out = dict(statuses)
    for loop in loops:
        for step_id in ((loop.data or {}).get("progress") or {}).get("failed_steps") or {}:
            out[step_id] = "failure"
    return out


_STATUS_RANK = ("failure", "running", "suspended", "success", "skipped")
"""What a step shows when its records (one per loop iteration) disagree: the first found."""


def step_statuses(steps: list[Any], *, run_suspended: bool = False) -> dict[str, str]:
    """Step id -> the status its node is coloured with on a run's graph.

    In a suspended run, a step still waiting for approvals shows "suspended"; a step run
    many times (in a loop) shows its most telling status: a failure, else running,
    suspended, success.
    """
    seen: dict[str, set[str]] = {}
    for step in steps:
        status = "suspended" if run_suspended and _awaits_approval(step) else str(step.status)
        seen.setdefault(step.step_id or step.key, set()).add(status)
    shown = {}
    for step_id, statuses in seen.items():
        shown[step_id] = next((s for s in _STATUS_RANK if s in statuses), sorted(statuses)[0])
    return shown


def _awaits_approval(step: Any) -> bool:
    state = (step.data or {}).get("suspend")
    if not isinstance(state, dict):
        return step.status == "waiting"
    approvals = state.get("approvals") or []
    decided = any(not a.get("approved") for a in approvals) or len(approvals) >= int(state.get("required") or 1)
    return not decided and step.status != "failure"


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank) of some durations; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def flow_stats(runs: list[Any]) -> list[dict[str, Any]]:
    """Per flow path, over finished runs: how many, the success rate (%) and p95 duration (s)."""
    by_path: dict[str, list[Any]] = {}
    for run in runs:
        if run.status in ("success", "failure", "canceled"):
            by_path.setdefault(run.path or "(ad hoc)", []).append(run)
    stats = []
    for path, finished in sorted(by_path.items()):
        ok = sum(1 for run in finished if run.status == "success")
        durations = [run.finished_at - run.started_at for run in finished if run.started_at and run.finished_at]
        stats.append({"path": path, "runs": len(finished), "success_rate": round(100 * ok / len(finished), 1),
                      "p95": round(p95(durations), 3)})
    return stats


def failures_by_step(runs: list[Any]) -> list[dict[str, str]]:
    """Failed runs counted by flow and failing step, most failures first."""
    counts: dict[tuple[str, str], int] = {}
    for run in runs:
        if run.status == "failure":
            error = run.error if isinstance(run.error, dict) else {}
            key = (run.path or "(ad hoc)", str(error.get("step_id") or "(flow)"))
            counts[key] = counts.get(key, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"path": path, "step_id": step, "failures": str(count)} for (path, step), count in ranked]


def approval_row(run: Any, steps: dict[str, Any],
                 requests: list[tuple[str, float]] | None = None) -> dict[str, str] | None:
    """A suspended run's step that waits for approvals, or None when none waits.

    `requests` are the run's (approver, when asked) approval requests; those made since
    the step started are its "asked of".
    """
    from app.services.approval_requests import asked_since

    for key, step in steps.items():
        state = (step.data or {}).get("suspend")
        if not isinstance(state, dict):
            continue
        approvals = state.get("approvals") or []
        if any(not a.get("approved") for a in approvals) or len(approvals) >= int(state.get("required") or 1):
            continue
        return {**run_row(run), "step": key, "asked": when(state.get("asked_at")),
                "deadline": when(state.get("deadline")),
                "progress": f"{len(approvals)} of {state.get('required') or 1}",
                "asked_of": ", ".join(asked_since(requests or [], step.started_at))}
    return None


def decision_row(decision: dict[str, Any]) -> dict[str, str]:
    """One approval decision as the run page shows it (who, when, what, why)."""
    payload = decision.get("payload")
    return {"step": str(decision.get("step") or ""), "approver": str(decision.get("approver") or "anonymous"),
            "verdict": "approved" if decision.get("approved") else "rejected", "when": when(decision.get("ts")),
            "payload": json.dumps(payload, default=str) if payload not in (None, {}) else "",
            "comment": str(decision.get("comment") or "")}
