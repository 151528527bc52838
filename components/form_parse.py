"""Submitted form texts as typed, checked args (pure): each text typed by its field's
kind, objects put back together from their fields, then the whole checked with
jsonschema, one message per field."""

from __future__ import annotations

import datetime
import json
from typing import Any

from jsonschema import FormatChecker, validators

from components import form_objects
from components.form_fields import (RESOURCE_PREFIX, item_type, moment_utc, level_fields, option_label,
                                    resource_type, schema_fields, schema_fields_below)

def _coerce(field: dict[str, Any], prop: dict[str, Any], raw: Any) -> tuple[Any, str]:
    """(value, "") or (None, what is wrong) for one submitted text."""
    kind, text = field["kind"], str(raw).strip()
    if kind == "integer":
        try:
            return int(text), ""
        except ValueError:
            return None, "must be a whole number"
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            return None, "must be a number"
        return (int(number) if number.is_integer() and "." not in text else number), ""
    if kind == "resource":
        return (text if text.startswith(RESOURCE_PREFIX) else RESOURCE_PREFIX + text), ""
    if kind == "datetime":
        moment = moment_utc(text) if "T" in text.upper() else None
        if moment is None:
            return None, "must be a date and time, e.g. 2024-01-31T09:00"
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ"), ""
    if kind == "enum":
        for value in prop.get("enum") or []:
            if option_label(value) == str(raw):
                return value, ""
        return None, "must be one of the listed values"
    if kind == "list":
        return _items(prop, str(raw))
    if kind == "keyvalue":
        return form_objects.parse_pairs(str(raw), form_objects.free_form_type(prop) or "")
    if kind == "json":
        try:
            return json.loads(text), ""
        except json.JSONDecodeError as exc:
            return None, f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    return str(raw), ""


def _items(prop: dict[str, Any], text: str) -> tuple[Any, str]:
    """The items of a list typed one a line (blank lines skipped), each of the list's item
    type, or the first line that is not."""
    kind, items = item_type(prop), []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        value, problem = _coerce({"kind": kind}, {}, line) if kind != "string" else (line.strip(), "")
        if problem:
            return None, f"line {number}: {problem}"
        items.append(value)
    return items, ""


def parse_form(schema: dict[str, Any] | None, form_data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed args from submitted texts, and one message per field that is wrong.

    A blank input means "not given" (the schema's default then applies); a switch that
    is off is `false`. An optional object none of whose fields is filled in is not given;
    once one is, its required fields are required. Messages for problems that belong to
    no field are keyed "".
    """
    schema = schema or {}
    errors: dict[str, str] = {}
    args = _parse_object(schema, [], form_data, errors)
    names = {field["name"] for field in schema_fields(schema)}
    for name, message in schema_errors(schema, args, names).items():
        errors.setdefault(name, message)
    return args, errors


def _parse_object(schema: dict[str, Any], path: list[str], form_data: dict[str, Any],
                  errors: dict[str, str]) -> dict[str, Any]:
    properties = schema.get("properties") or {}
    args: dict[str, Any] = {}
    for field in level_fields(schema, path):
        name, key, raw = field["name"], field["path"][-1], form_data.get(field["name"])
        prop = properties.get(key) if isinstance(properties.get(key), dict) else {}
        if field["kind"] == "object":
            inner: dict[str, str] = {}
            value = _parse_object(prop, field["path"], form_data, inner)
            if field["required"] or _filled_in(field, form_data):
                args[key] = value
                errors.update(inner)
            continue
        if field["kind"] == "boolean":
            args[key] = raw in (True, "on", "true")
            continue
        if _blank(field, raw):
            if field["required"] and field["kind"] == "keyvalue":
                args[key] = {}
            elif field["required"]:
                errors[name] = "is required"
            continue
        value, problem = _coerce(field, prop, raw)
        if problem:
            errors[name] = problem
        else:
            args[key] = value
    return args


def _blank(field: dict[str, Any], raw: Any) -> bool:
    if raw is None or str(raw).strip() == "":
        return True
    return field["kind"] == "keyvalue" and not form_objects.has_entries(str(raw))


def _filled_in(group: dict[str, Any], form_data: dict[str, Any]) -> bool:
    """Whether any field inside an object field was filled in (a switch: turned on)."""
    for field in schema_fields_below(group, None):
        raw = form_data.get(field["name"])
        if field["kind"] == "boolean":
            if raw in (True, "on", "true"):
                return True
        elif field["kind"] != "object" and not _blank(field, raw):
            return True
    return False


def _is_date_time(value: Any) -> bool:
    """RFC 3339-like: a date, "T", a time (formats apply to strings only)."""
    if not isinstance(value, str):
        return True
    if "T" not in value.upper():
        return False
    try:
        datetime.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _format_checker() -> FormatChecker:
    checker = FormatChecker(("email", "date"))
    checker.checks("date-time")(_is_date_time)
    return checker


_CHECKER = _format_checker()


def schema_errors(schema: dict[str, Any], args: dict[str, Any], names: set[str] | None = None) -> dict[str, str]:
    """jsonschema's first message per field: keyed by the innermost of `names` (the form's
    field names; by default the top-level properties) the error's place is in, "" for
    the args as a whole."""
    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    known = names if names is not None else set(properties)
    args = _without_resources(schema, args)
    errors: dict[str, str] = {}
    for error in cls(schema, format_checker=_CHECKER).iter_errors(args):
        if error.validator == "required":
            continue  # blank required inputs were reported by parse_form already
        place = list(error.absolute_path)
        depth = next((n for n in range(len(place), 0, -1) if _joined(place[:n]) in known), 0)
        errors.setdefault(_joined(place[:depth]), _field_message(error, place[depth:]))
    return errors


def _without_resources(schema: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """The args without picked resources ("$res:path" stands for a resource's value, which
    was checked when it was saved), at any depth of objects."""
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    kept = {}
    for name, value in args.items():
        prop = properties.get(name) if isinstance(properties.get(name), dict) else {}
        if isinstance(value, str) and value.startswith(RESOURCE_PREFIX) and resource_type(prop) is not None:
            continue
        kept[name] = _without_resources(prop, value) if isinstance(value, dict) and prop.get("properties") else value
    return kept


def _joined(place: list[Any]) -> str:
    return ".".join(str(p) for p in place)


def _field_message(error: Any, rest: list[Any]) -> str:
    if error.validator == "format":
        return f"must be a valid {error.validator_value}"
    if rest:
        inner = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest)
        return f"{inner.lstrip('.')}: {error.message}"
    return error.message


