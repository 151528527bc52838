"""Objects in a generated form: which objects get a nested field per property, which get
key/value rows, and how those rows' text becomes an object (pure; `schema_form` uses it).

A key/value field's text is a JSON list of `[key, value text]` pairs, as the browser's
row editor (`assets/key_value_editor.jsx`) keeps it. A value is typed by the object's
`additionalProperties` type when it has a plain one; otherwise a value that reads as JSON
(`3`, `true`, `"3"`, `{"a": 1}`) is that JSON and any other text is a string, and a
string that would read as JSON is shown quoted, so a default comes back unchanged.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 3
"""Objects nested deeper than this are edited as JSON text."""
VALUE_TYPES = ("string", "integer", "number", "boolean")
"""`additionalProperties` types a key/value object's values are typed by."""


def main_type(prop: dict[str, Any]) -> str:
    """The property's type, ignoring "null" in a type list (an optional value)."""
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and isinstance(prop.get("anyOf"), list):
        kind = next((main_type(p) for p in prop["anyOf"] if isinstance(p, dict) and p.get("type") != "null"), None)
    return kind if isinstance(kind, str) else ""


def is_nested(prop: dict[str, Any], depth: int) -> bool:
    """An object with named properties: a field per property, `depth` levels down."""
    properties = prop.get("properties")
    return main_type(prop) == "object" and isinstance(properties, dict) and bool(properties) and depth < MAX_DEPTH


def free_form_type(prop: dict[str, Any]) -> str | None:
    """For an object without named properties, the type of its values ("" for any JSON
    value, else one of VALUE_TYPES); None when its values are too rich for rows."""
    if main_type(prop) != "object" or prop.get("properties") or prop.get("patternProperties"):
        return None
    extra = prop.get("additionalProperties", True)
    if extra is True or extra == {}:
        return ""
    if isinstance(extra, dict) and set(extra) <= {"type", "description", "title"}:
        kind = main_type(extra)
        return kind if kind in VALUE_TYPES else None
    return None


def pairs_text(value: Any, value_type: str) -> str:
    """A default object as the rows' text ("" when it is not an object)."""
    if not isinstance(value, dict):
        return ""
    return json.dumps([[str(key), _value_text(item, value_type)] for key, item in value.items()], ensure_ascii=False)


def _value_text(value: Any, value_type: str) -> str:
    if isinstance(value, str) and (value_type == "string" or (value_type == "" and not _reads_as_json(value))):
        return value
    return json.dumps(value, ensure_ascii=False)


def _reads_as_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def pairs(text: str) -> list[tuple[str, str]] | None:
    """The rows of a key/value text, or None when it is not such a text."""
    try:
        rows = json.loads(text) if text.strip() else []
    except ValueError:
        return None
    if not isinstance(rows, list) or not all(isinstance(r, list) and len(r) == 2 for r in rows):
        return None
    return [(str(key), str(value)) for key, value in rows]


def has_entries(text: str) -> bool:
    """Whether a key/value text has any row with a key or a value typed."""
    return any(key.strip() or value.strip() for key, value in pairs(text) or [])


def parse_pairs(text: str, value_type: str) -> tuple[dict[str, Any] | None, str]:
    """The object the rows describe, or None and what is wrong (naming the entry).

    Keys are trimmed; rows left empty are skipped."""
    rows = pairs(text)
    if rows is None:
        return None, "is not a list of entries"
    result: dict[str, Any] = {}
    for number, (key, raw) in enumerate(rows, 1):
        key = key.strip()
        if not key and not raw.strip():
            continue
        if not key:
            return None, f"entry {number} needs a key"
        if key in result:
            return None, f"entry {number}: the key {key!r} is used twice"
        value, problem = _typed(raw, value_type)
        if problem:
            return None, f"entry {number} ({key}): {problem}"
        result[key] = value
    return result, ""


def _typed(text: str, value_type: str) -> tuple[Any, str]:
    if value_type == "string":
        return text, ""
    if value_type == "":
        try:
            return json.loads(text), ""
        except ValueError:
            return text, ""
    try:
        value = json.loads(text.strip())
    except ValueError:
        value = None
    fits = {"integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool)}[value_type]
    if not fits(value):
        return None, {"integer": "must be a whole number", "number": "must be a number",
                      "boolean": "must be true or false"}[value_type]
    return value, ""
