"""A flow's input schema (JSON Schema of an object) as editable field rows, and back.

Each property becomes one row: a flat dict of strings that Reflex renders with
`rx.foreach`. Keys of a property the field editor does not know (`minLength`, `items`,
`x-…`) ride along in the row's `extra` (JSON text), and keys of the schema itself
(`$schema`, `additionalProperties`, …) are taken from the base schema, so that
`to_schema(to_rows(s), s)` gives `s` back. Nothing here touches the page or the store.
"""

from __future__ import annotations

import copy
import json
from typing import Any

FIELD_TYPES = ("string", "integer", "number", "boolean", "array", "object")
STRING_FORMATS = ("email", "hostname", "ipv4", "date", "date-time", "uri")
NO_FORMAT = "none"
"""What the format picker shows for "no format" (a select cannot offer an empty value)."""

_KNOWN = frozenset({"type", "format", "pattern", "enum", "default", "description"})
_STRING_ONLY = ("format", "pattern")


def empty_schema() -> dict[str, Any]:
    """The schema of a flow without inputs."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "properties": {}, "required": []}


def to_rows(schema: dict[str, Any] | None) -> list[dict[str, str]]:
    """One row per property, in the schema's `order` (then the properties' own order)."""
    schema = schema or {}
    properties = schema.get("properties") or {}
    order = [name for name in schema.get("order") or [] if name in properties]
    names = order + [name for name in properties if name not in order]
    required = set(schema.get("required") or [])
    return [_row(index, name, properties[name] or {}, name in required) for index, name in enumerate(names)]


def _row(index: int, name: str, prop: dict[str, Any], required: bool) -> dict[str, str]:
    kind = prop.get("type")
    known_type = isinstance(kind, str) and kind in FIELD_TYPES
    extra = {key: value for key, value in prop.items() if key not in _KNOWN or (key == "type" and not known_type)}
    # Values the row's text cannot carry faithfully stay as they are, in `extra`.
    for key in ("default", "enum"):
        fits = _fits(prop.get(key), str(kind)) if key == "default" else (
            isinstance(prop.get(key), list) and all(_fits(item, str(kind)) for item in prop[key]))
        if key in prop and not fits:
            extra[key] = prop[key]
    for key in ("format", "pattern", "description"):
        if key in prop and (not isinstance(prop[key], str) or not prop[key]
                            or (key != "description" and kind != "string")):
            extra[key] = prop[key]
    if prop.get("default") == "" or prop.get("enum") == []:  # "" and [] read as "not set" in a row
        extra.update({key: prop[key] for key in ("default", "enum") if prop.get(key) in ("", [])})
    shown = {key: prop[key] for key in ("default", "enum", "format", "pattern", "description")
             if key in prop and key not in extra}
    return {
        "index": str(index),
        "name": name,
        "type": kind if known_type else "",
        "format": str(shown.get("format") or NO_FORMAT),
        "pattern": str(shown.get("pattern") or ""),
        "enum": "" if "enum" not in shown else json.dumps(shown["enum"], ensure_ascii=False),
        "default": "" if "default" not in shown else _value_text(shown["default"], str(kind)),
        "description": str(shown.get("description") or ""),
        "required": "true" if required else "false",
        "extra": json.dumps(extra, ensure_ascii=False) if extra else "",
    }


def _value_text(value: Any, kind: str) -> str:
    if kind == "string" and isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def to_schema(rows: list[dict[str, str]],
              base: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """The schema the rows describe, and a problem per row index ("" when none).

    Keys of `base` other than `properties`, `required` and `order` are kept; `order` is
    written only when `base` had one. A row with a problem still gives what it can (a
    bad default is left out, a bad or repeated name leaves the whole field out).
    """
    schema = copy.deepcopy(base) if base else empty_schema()
    properties: dict[str, Any] = {}
    required: list[str] = []
    problems: dict[str, str] = {}
    for row in rows:
        name = row["name"].strip()
        if not name:
            problems[row["index"]] = "a field needs a name"
            continue
        if name in properties:
            problems[row["index"]] = f"another field is already called {name!r}"
            continue
        properties[name], problems[row["index"]] = _property(row)
        if row["required"] == "true":
            required.append(name)
    schema["type"] = schema.get("type") or "object"
    schema["properties"], schema["required"] = properties, required
    if "order" in schema:
        schema["order"] = list(properties)
    return schema, {index: problem for index, problem in problems.items() if problem}


def _property(row: dict[str, str]) -> tuple[dict[str, Any], str]:
    prop: dict[str, Any] = json.loads(row["extra"]) if row.get("extra") else {}
    kind = row["type"]
    if kind:
        prop["type"] = kind
    if kind == "string":
        if row["format"] not in ("", NO_FORMAT):
            prop["format"] = row["format"]
        if row["pattern"]:
            prop["pattern"] = row["pattern"]
    problems = []
    if row["enum"].strip():
        values, problem = parse_enum(row["enum"], kind)
        if problem:
            problems.append(f"choices: {problem}")
        else:
            prop["enum"] = values
    if row["default"] != "":
        value, problem = parse_value(row["default"], kind)
        if problem:
            problems.append(f"default: {problem}")
        else:
            prop["default"] = value
    if row["description"]:
        prop["description"] = row["description"]
    return prop, "; ".join(problems)


def parse_value(text: str, kind: str) -> tuple[Any, str]:
    """A value typed for a field of `kind`, and a problem ("" when it fits the type)."""
    if kind == "string":
        return text, ""
    try:
        value = json.loads(text)
    except ValueError:
        if kind in ("", "any"):
            return text, ""
        return None, f"{text!r} is not {_a(kind)}"
    if not _fits(value, kind):
        return None, f"{text!r} is not {_a(kind)}"
    return value, ""


def parse_enum(text: str, kind: str) -> tuple[list[Any], str]:
    """Allowed values from a JSON list, or from comma-separated text."""
    text = text.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            return [], "not a valid JSON list"
        bad = [item for item in items if not _fits(item, kind)]
        return (items, "") if not bad else ([], f"{bad[0]!r} is not {_a(kind)}")
    values = []
    for part in (part.strip() for part in text.split(",")):
        value, problem = parse_value(part, kind)
        if problem:
            return [], problem
        values.append(value)
    return values, ""


def _fits(value: Any, kind: str) -> bool:
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
    }
    return checks.get(kind, lambda v: True)(value)


def _a(kind: str) -> str:
    return {"integer": "an integer", "array": "an array", "object": "an object"}.get(kind, f"a {kind}")


# ---- edits (each returns new rows) ---------------------------------------------------------

def add_field(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows plus a new optional string field with a free name (field_1, field_2, …)."""
    taken = {row["name"] for row in rows}
    number = next(n for n in range(1, len(rows) + 2) if f"field_{n}" not in taken)
    return _renumber(rows + [_row(len(rows), f"field_{number}", {"type": "string"}, False)])


def remove_field(rows: list[dict[str, str]], index: str) -> list[dict[str, str]]:
    """The rows without the one at `index`."""
    return _renumber([row for row in rows if row["index"] != index])


def set_field(rows: list[dict[str, str]], index: str, key: str, text: str) -> list[dict[str, str]]:
    """The rows with one key of one row changed (changing the type drops a foreign type)."""
    if key not in ("name", "type", "format", "pattern", "enum", "default", "description", "required"):
        raise ValueError(f"unknown field key {key!r}")
    changed = []
    for row in rows:
        if row["index"] == index:
            row = {**row, key: text}
            if key == "type" and row.get("extra"):
                extra = {k: v for k, v in json.loads(row["extra"]).items() if k != "type"}
                row["extra"] = json.dumps(extra, ensure_ascii=False) if extra else ""
        changed.append(row)
    return changed


def _renumber(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{**row, "index": str(index)} for index, row in enumerate(rows)]


def schema_text(schema: dict[str, Any]) -> str:
    """The schema as the read-only JSON view shows it."""
    return json.dumps(schema, indent=2, ensure_ascii=False)
