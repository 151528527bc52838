"""Live previews of a flow being edited: what to run, and engine events as panel rows.

Three previews: the whole flow, one step (earlier steps replaced by mocks returning what
the last preview gave them, so the step sees the same `results`), and the flow up to a
step. Events of the preview run become one row per step key, updated in place; results
over `RESULT_LIMIT` are cut for the page (the full value stays in the store).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from app.views.flow_ops import enclosing_loop, find_step, flow_modules, iter_containers

RESULT_LIMIT = 100_000
"""Bytes of JSON above which a result is shown cut, with its size and a download link."""
SHOWN_CHARS = 4_000
"""How much of a cut result the page shows."""
LOG_LINES = 200
"""Log lines kept per step row (the store keeps them all)."""
PICK_KEYS = 30


def step_document(document: dict[str, Any], step_id: str, results: dict[str, Any],
                  iter_value: Any = None) -> dict[str, Any]:
    """A flow of one step, after mocks that return the earlier steps' last results.

    A step inside a loop runs as the one iteration of a loop of the same id over
    `[iter_value]`, so it reads `flow_input.iter.value` (and `.index`, 0) as in the flow.
    """
    _, _, module = find_step(document, step_id)
    loop, outside, inside = enclosing_loop(document, step_id)
    step = copy.deepcopy(module)
    if loop is None:
        return {**_shell(document), "value": {"modules": _mocks(outside, results) + [step]}}
    once = {"id": loop.get("id"), "summary": "one iteration",
            "value": {"type": "forloopflow", "iterator": {"type": "static", "value": [iter_value]},
                      "skip_failures": False, "modules": _mocks(inside, results) + [step]}}
    return {**_shell(document), "value": {"modules": _mocks(outside, results) + [once]}}


def _mocks(step_ids: list[str], results: dict[str, Any]) -> list[dict[str, Any]]:
    """Steps that return what these steps gave in the last preview (those it gave anything)."""
    return [{"id": earlier, "summary": "previous result",
             "value": {"type": "identity"}, "mock": {"enabled": True, "return_value": results[earlier]}}
            for earlier in step_ids if earlier in results]


def upto_document(document: dict[str, Any], step_id: str) -> dict[str, Any]:
    """The flow cut after `step_id`: every enclosing step list stops at the way to it."""
    result = copy.deepcopy(document)
    find_step(result, step_id)
    _cut(flow_modules(result), step_id)
    value = result.setdefault("value", {})
    for key in ("failure_module", "early_return"):
        value.pop(key, None)
    return result


def _cut(modules: list[dict[str, Any]], step_id: str) -> bool:
    for index, module in enumerate(modules):
        if module.get("id") == step_id or any(_cut(children, step_id) for _, children in iter_containers(module)):
            del modules[index + 1:]
            return True
    return False


def _shell(document: dict[str, Any]) -> dict[str, Any]:
    return {key: document[key] for key in ("summary", "schema") if key in document}


# ---- results -------------------------------------------------------------------------------

def result_view(result: Any) -> dict[str, str]:
    """A result as the page shows it: text (cut when big), size, and whether it was cut."""
    text = json.dumps(result, indent=2, ensure_ascii=False, default=str)
    size = len(text.encode())
    truncated = size > RESULT_LIMIT
    shown = text[:SHOWN_CHARS] + "\n…" if truncated else text
    return {"result": shown, "size": human_size(size), "truncated": "true" if truncated else "false"}


def human_size(size: int) -> str:
    """Bytes as '812 B', '4.2 KB', '1.3 MB'."""
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.1f} KB"
    return f"{size / 1_000_000:.1f} MB"


def keep_for_picker(result: Any) -> Any:
    """What the picker and step previews remember of a result (big ones only by shape)."""
    text = json.dumps(result, default=str)
    if len(text) <= RESULT_LIMIT:
        return result
    if isinstance(result, dict):
        return {key: None for key in list(result)[:PICK_KEYS]}
    return None


def picks(schema: dict[str, Any] | None, earlier: list[str], results: dict[str, Any],
          in_loop: bool = False, iter_value: Any = None) -> list[dict[str, str]]:
    """Expressions the picker offers: the loop's iteration (in a loop: its value, the
    value's fields, its index), flow inputs, then earlier steps' results and fields."""
    rows = []
    if in_loop:
        rows.append({"expr": "flow_input.iter.value", "group": "iteration"})
        if isinstance(iter_value, dict):
            rows.extend({"expr": f"flow_input.iter.value.{key}", "group": "iteration"}
                        for key in list(iter_value)[:PICK_KEYS] if str(key).isidentifier())
        rows.append({"expr": "flow_input.iter.index", "group": "iteration"})
    rows += [{"expr": f"flow_input.{name}", "group": "flow input"}
             for name in ((schema or {}).get("properties") or {})]
    for step_id in earlier:
        rows.append({"expr": f"results.{step_id}", "group": step_id})
        result = results.get(step_id)
        if isinstance(result, dict):
            rows.extend({"expr": f"results.{step_id}.{key}", "group": step_id}
                        for key in list(result)[:PICK_KEYS] if str(key).isidentifier())
    return rows


# ---- events as rows ------------------------------------------------------------------------

def new_row(step_id: str, key: str, iteration: Any) -> dict[str, str]:
    return {"step_id": step_id, "key": key, "iteration": "" if iteration is None else str(iteration),
            "status": "running", "duration": "", "logs": "", "log_lines": "0", "result": "",
            "size": "", "truncated": "false", "error": ""}


def apply_event(rows: list[dict[str, str]], event: dict[str, Any]) -> list[dict[str, str]]:
    """The rows after one engine event (step_started, step_log, step_finished, ...)."""
    kind, key = event.get("kind"), event.get("key")
    if key is None or kind not in ("step_started", "step_log", "step_finished", "step_retrying"):
        return rows
    rows = list(rows)
    index = next((i for i, row in enumerate(rows) if row["key"] == key), None)
    if index is None:
        rows.append(new_row(str(event.get("step_id") or key), key, event.get("iteration")))
        index = len(rows) - 1
    row = dict(rows[index])
    data = event.get("data") or {}
    if kind == "step_started":
        row["status"] = "running"
    elif kind == "step_retrying":
        row["status"] = "retrying"
    elif kind == "step_log":
        lines = int(row["log_lines"])
        if lines < LOG_LINES:
            row["logs"] += str(data.get("line", "")) + "\n"
        row["log_lines"] = str(lines + 1)
    else:
        row.update(status=str(data.get("status") or ""), duration=format_duration(data.get("duration")))
        row.update(result_view(data.get("result")))
        error = data.get("error")
        row["error"] = str(error.get("message", error)) if isinstance(error, dict) else (str(error) if error else "")
    rows[index] = row
    return rows


def format_duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return ""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"

