"""The step panel as data: a step's inputs, options and loop/branch settings as form rows,
and the edits those rows make to the step.

Rows are flat dicts of strings (what Reflex renders with `rx.foreach`); edits take a step
dict and return a changed copy plus a problem message ("" when fine). Nothing here
touches the page or the store.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from app.views.flow_ops import BRANCH_TYPES, LOOP_TYPES

SCRIPT_TYPES = frozenset({"rawscript", "script", "flow"})


# ---- inputs (one row per parameter of the script's signature) ----------------------------

def input_rows(module: dict[str, Any], schema: dict[str, Any] | None) -> list[dict[str, str]]:
    """One row per parameter: from the signature's schema, then any extra transform."""
    value = module.get("value") or {}
    transforms = value.get("input_transforms") or {}
    properties = (schema or {}).get("properties") or {}
    order = list((schema or {}).get("order") or properties) + [n for n in properties if n not in ((schema or {}).get("order") or [])]
    names = list(dict.fromkeys(order + [name for name in transforms if name not in properties]))
    required = set((schema or {}).get("required") or [])
    return [_input_row(name, properties.get(name) or {}, transforms.get(name), name in required) for name in names]


def _input_row(name: str, prop: dict[str, Any], transform: Any, required: bool) -> dict[str, str]:
    kind = _widget(prop)
    row = {"name": name, "type": str(prop.get("type") or "any"), "widget": kind,
           "required": "true" if required else "false", "description": str(prop.get("description") or ""),
           "default": "" if "default" not in prop else _static_text(prop["default"], kind),
           "mode": "static", "text": "", "unset": "true"}
    if isinstance(transform, dict):
        row["unset"] = "false"
        if transform.get("type") == "javascript":
            row["mode"], row["text"] = "javascript", str(transform.get("expr") or "")
        else:
            row["text"] = _static_text(transform.get("value"), kind)
    return row


def _widget(prop: dict[str, Any]) -> str:
    kind = prop.get("type")
    if prop.get("enum"):
        return "string"
    return {"string": "string", "integer": "number", "number": "number", "boolean": "boolean"}.get(str(kind), "json")


def _static_text(value: Any, widget: str) -> str:
    if value is None:
        return ""
    if widget == "string" and isinstance(value, str):
        return value
    if widget == "boolean":
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def parse_static(text: str, widget: str) -> tuple[Any, str]:
    """(value, problem) of a static input typed as text in a widget of this kind."""
    if widget == "string":
        return text, ""
    if widget == "boolean":
        return text == "true", ""
    if widget == "number":
        try:
            number = float(text)
        except ValueError:
            return text, f"{text!r} is not a number"
        return (int(number) if number.is_integer() and "." not in text else number), ""
    try:
        return json.loads(text), ""
    except ValueError:
        return text, "not valid JSON (kept as a string)"


def set_input(module: dict[str, Any], name: str, mode: str, text: str, widget: str) -> tuple[dict[str, Any], str]:
    """A copy of the step whose input `name` is a static value or a JS expression."""
    result = copy.deepcopy(module)
    transforms = result.setdefault("value", {}).setdefault("input_transforms", {})
    if mode == "javascript":
        transforms[name] = {"type": "javascript", "expr": text}
        return result, ""
    value, problem = parse_static(text, widget)
    transforms[name] = {"type": "static", "value": value}
    return result, problem


# ---- per-step options ---------------------------------------------------------------------

OPTION_NAMES = ("retry_attempts", "retry_seconds", "timeout", "sleep", "skip_if", "stop_after_if",
                "suspend_events", "suspend_timeout", "continue_on_error", "mock_enabled", "mock_value")


def option_values(module: dict[str, Any]) -> dict[str, str]:
    """Every per-step option as text ("" when absent)."""
    retry = ((module.get("retry") or {}).get("constant") or {})
    suspend = module.get("suspend") or {}
    mock = module.get("mock") or {}
    return {
        "retry_attempts": _text(retry.get("attempts")),
        "retry_seconds": _text(retry.get("seconds")),
        "timeout": _text(module.get("timeout")),
        "sleep": _text(module.get("sleep")),
        "skip_if": str((module.get("skip_if") or {}).get("expr") or ""),
        "stop_after_if": str((module.get("stop_after_if") or {}).get("expr") or ""),
        "suspend_events": _text(suspend.get("required_events")),
        "suspend_timeout": _text(suspend.get("timeout")),
        "continue_on_error": "true" if module.get("continue_on_error") else "false",
        "mock_enabled": "true" if mock.get("enabled") else "false",
        "mock_value": "" if not mock else json.dumps(mock.get("return_value"), ensure_ascii=False),
    }


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return str(value.get("expr") if value.get("type") == "javascript" else value.get("value", ""))
    return str(value)


def set_option(module: dict[str, Any], name: str, text: str) -> tuple[dict[str, Any], str]:
    """A copy of the step with one option set from its text ("" removes it)."""
    if name not in OPTION_NAMES:
        return module, f"unknown option {name!r}"
    result = copy.deepcopy(module)
    text = text.strip()
    number, problem = _number(text) if name in _NUMERIC else (None, "")
    if problem:
        return module, problem
    if name.startswith("retry_"):
        constant = result.setdefault("retry", {}).setdefault("constant", {})
        _put(constant, "attempts" if name == "retry_attempts" else "seconds", number)
        if not constant:
            result.pop("retry", None)
    elif name in ("timeout", "sleep"):
        _put(result, name, number)
    elif name in ("skip_if", "stop_after_if"):
        _put(result, name, {"expr": text} if text else None)
    elif name.startswith("suspend_"):
        suspend = result.setdefault("suspend", {})
        _put(suspend, "required_events" if name == "suspend_events" else "timeout", number)
        if not suspend:
            result.pop("suspend", None)
    elif name == "continue_on_error":
        _put(result, name, True if text == "true" else None)
    else:
        return _set_mock(result, name, text)
    return result, ""


_NUMERIC = frozenset({"retry_attempts", "retry_seconds", "timeout", "sleep", "suspend_events", "suspend_timeout"})


def _number(text: str) -> tuple[int | float | None, str]:
    if not text:
        return None, ""
    try:
        number = float(text)
    except ValueError:
        return None, f"{text!r} is not a number"
    if number < 0:
        return None, "must be 0 or more"
    return (int(number) if number.is_integer() else number), ""


def _set_mock(module: dict[str, Any], name: str, text: str) -> tuple[dict[str, Any], str]:
    mock = module.setdefault("mock", {"enabled": False, "return_value": None})
    problem = ""
    if name == "mock_enabled":
        mock["enabled"] = text == "true"
    else:
        try:
            mock["return_value"] = json.loads(text) if text else None
        except ValueError:
            mock["return_value"], problem = text, "not valid JSON (kept as a string)"
    if not mock["enabled"] and mock.get("return_value") is None:
        module.pop("mock", None)
    return module, problem


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


# ---- loops and branches -------------------------------------------------------------------

def container_settings(module: dict[str, Any]) -> dict[str, str]:
    """A loop's or branch step's settings as text, with Windmill's effective defaults."""
    value = module.get("value") or {}
    kind = value.get("type")
    settings: dict[str, str] = {}
    if kind in LOOP_TYPES:
        effective = _effective(module)
        skip = value.get("skip_failures")
        settings["skip_failures"] = _bool(effective.get("skip_failures",
                                                        kind == "forloopflow" if skip is None else skip))
        settings["parallel"] = _bool(effective.get("parallel", bool(value.get("parallel"))))
        settings["parallelism"] = _text(value.get("parallelism"))
        settings["explicit_skip_failures"] = "false" if value.get("skip_failures") is None else "true"
        if kind == "forloopflow":
            settings["iterator"] = _text(value.get("iterator"))
    elif kind == "branchall":
        effective = _effective(module)
        parallel = value.get("parallel")
        settings["parallel"] = _bool(effective.get("parallel", True if parallel is None else parallel))
        settings["explicit_parallel"] = "false" if parallel is None else "true"
    return settings


def _effective(module: dict[str, Any]) -> dict[str, bool]:
    """Effective values as the engine's own models compute them (empty if invalid)."""
    from engine import BadInput, flow_from_data

    try:
        model = flow_from_data({"value": {"modules": [copy.deepcopy(module)]}}).value.modules[0].value
    except (BadInput, ValueError):
        return {}
    found = {}
    for name in ("skip_failures", "parallel"):
        prop = f"effective_{name}"
        if hasattr(model, prop):
            found[name] = bool(getattr(model, prop))
    return found


def _bool(value: Any) -> str:
    return "true" if value else "false"


def branch_rows(module: dict[str, Any]) -> list[dict[str, str]]:
    """One row per branch: index, summary, condition, and (branchall) skip_failure."""
    value = module.get("value") or {}
    if value.get("type") not in BRANCH_TYPES:
        return []
    return [{"index": str(index), "summary": str(branch.get("summary") or ""), "expr": str(branch.get("expr") or ""),
             "skip_failure": _bool(branch.get("skip_failure"))}
            for index, branch in enumerate(value.get("branches") or [])]


def set_container(module: dict[str, Any], name: str, text: str) -> tuple[dict[str, Any], str]:
    """A copy with one loop/branch setting changed (iterator, skip_failures, parallel, parallelism)."""
    result = copy.deepcopy(module)
    value = result.setdefault("value", {})
    if name == "iterator":
        value["iterator"] = {"type": "javascript", "expr": text}
    elif name in ("skip_failures", "parallel"):
        value[name] = text == "true"
    elif name == "parallelism":
        number, problem = _number(text.strip())
        if problem:
            return module, problem
        _put(value, "parallelism", number)
    else:
        return module, f"unknown setting {name!r}"
    return result, ""


def set_branch(module: dict[str, Any], index: int, field: str, text: str) -> dict[str, Any]:
    """A copy with one branch's summary, expr or skip_failure changed."""
    result = copy.deepcopy(module)
    branches = (result.get("value") or {}).get("branches") or []
    if 0 <= index < len(branches):
        branches[index][field] = (text == "true") if field == "skip_failure" else text
    return result


def add_branch(module: dict[str, Any]) -> dict[str, Any]:
    """A copy with one more (empty) branch."""
    result = copy.deepcopy(module)
    value = result.setdefault("value", {})
    branches = value.setdefault("branches", [])
    branch: dict[str, Any] = {"summary": f"Branch {len(branches) + 1}", "modules": []}
    if value.get("type") == "branchone":
        branch["expr"] = "false"
    branches.append(branch)
    return result
