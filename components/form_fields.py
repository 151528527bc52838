"""A JSON Schema (a flow's schema, or a script's `main` signature) as a flat list of form
fields, one dict per property, in the order the form shows them (pure: no page, no store).

An object with named properties is a heading field followed by its properties' own
fields, named `object.property`; a free-form object is one key/value field (see
`components.form_objects`).
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from components import form_objects
from components.form_objects import main_type

KINDS = ("string", "email", "date", "datetime", "integer", "number", "boolean", "enum", "list", "json", "resource",
         "object", "keyvalue")
"""`object`: a heading whose properties follow as fields of their own (named `parent.child`);
`keyvalue`: a free-form object edited as key/value rows."""
LIST_ITEMS = ("string", "integer", "number")
"""Item types a list is edited as lines of (one item a line); other lists are JSON text."""
RESOURCE_FORMAT = "resource-"
"""Windmill's format of a resource argument: `resource-postgresql` takes a postgresql resource."""
RESOURCE_PREFIX = "$res:"
_FORMAT_KINDS = {"email": "email", "date": "date", "date-time": "datetime"}
_TYPE_KINDS = {"integer": "integer", "number": "number", "boolean": "boolean",
               "array": "json", "object": "json", "string": "string"}


def resource_type(prop: dict[str, Any]) -> str | None:
    """The resource type a property takes (`format: resource-<type>`), or None."""
    text = str(prop.get("format") or "")
    return text[len(RESOURCE_FORMAT):] if text.startswith(RESOURCE_FORMAT) and len(text) > len(RESOURCE_FORMAT) else None


def field_kind(prop: dict[str, Any], depth: int = 0) -> str:
    """Which input a schema property `depth` objects down gets (one of KINDS); unknown
    shapes are JSON text."""
    if resource_type(prop) is not None:
        return "resource"
    if isinstance(prop.get("enum"), list) and prop["enum"]:
        return "enum"
    if form_objects.is_nested(prop, depth):
        return "object"
    if form_objects.free_form_type(prop) is not None:
        return "keyvalue"
    kind = main_type(prop)
    if kind == "string":
        return _FORMAT_KINDS.get(str(prop.get("format", "")), "string")
    if kind == "array" and item_type(prop) in LIST_ITEMS:
        return "list"
    return _TYPE_KINDS.get(kind, "json")


def item_type(prop: dict[str, Any]) -> str:
    """The type of a list's items ("" when untyped or an enum)."""
    items = prop.get("items")
    return main_type(items) if isinstance(items, dict) and not items.get("enum") else ""


def resource_types(schema: dict[str, Any] | None) -> set[str]:
    """The resource types the form's resource arguments take, at any depth."""
    return {field["resource_type"] for field in schema_fields(schema) if field["resource_type"]}


def option_label(value: Any) -> str:
    """How an enum value is shown (and submitted) in a select."""
    return value if isinstance(value, str) else json.dumps(value)


def _initial_text(kind: str, prop: dict[str, Any]) -> str:
    if "default" not in prop or prop["default"] is None:
        return ""
    if prop["default"] == "" and main_type(prop) == "object":
        return ""  # Windmill's UI writes "" as an object parameter's "no default"
    default = prop["default"]
    if kind == "keyvalue":
        return form_objects.pairs_text(default, form_objects.free_form_type(prop) or "")
    if kind == "object":
        return ""
    if kind == "resource":
        return str(default).removeprefix(RESOURCE_PREFIX)
    if kind == "json":
        return json.dumps(default)
    if kind == "list":
        return "\n".join(str(item) for item in default) if isinstance(default, list) else ""
    if kind == "enum":
        return option_label(default)
    if kind == "boolean":
        return "true" if default else ""
    if kind == "datetime":
        moment = moment_utc(str(default))
        return moment.strftime("%Y-%m-%dT%H:%M:%S") if moment is not None else ""
    return str(default)


def moment_utc(text: str) -> datetime.datetime | None:
    """A date and time in UTC from ISO 8601 text (one without a zone is taken as UTC, as
    the picker gives it), or None."""
    try:
        moment = datetime.datetime.fromisoformat(text.strip().upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def _ordered_names(schema: dict[str, Any]) -> list[str]:
    properties = schema.get("properties") or {}
    order = [name for name in schema.get("order") or [] if name in properties]
    return order + [name for name in properties if name not in order]


def schema_fields(schema: dict[str, Any] | None,
                  resources: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
    """One dict per property, in the schema's `order` (Windmill's), else as written; an
    object with named properties is followed by its own properties' fields, named
    `object.property` (see KINDS).

    Keys: name, label, kind, required (bool), hint (type and "optional"), description,
    value (initial text), checked (initial switch state), options (enum labels; for a
    resource argument the paths of `resources[type]`, the resources of its type),
    placeholder, path (the property names from the top), depth and indent (CSS length).
    """
    fields: list[dict[str, Any]] = []
    for field in level_fields(schema or {}, [], resources):
        fields.append(field)
        if field["kind"] == "object":
            fields.extend(schema_fields_below(field, resources))
    return fields


def schema_fields_below(group: dict[str, Any], resources: dict[str, list[str]] | None) -> list[dict[str, Any]]:
    """The fields of an object field's properties, and theirs, depth first."""
    fields: list[dict[str, Any]] = []
    for field in level_fields(group["schema"], group["path"], resources, group["default"]):
        fields.append(field)
        if field["kind"] == "object":
            fields.extend(schema_fields_below(field, resources))
    return fields


def level_fields(schema: dict[str, Any], path: list[str], resources: dict[str, list[str]] | None = None,
                 defaults: Any = None) -> list[dict[str, Any]]:
    """The fields of one object's own properties, `path` below the top; `defaults` (the
    enclosing object's default) gives each property's initial value before its own."""
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    fields = []
    for name in _ordered_names(schema):
        prop = properties[name] if isinstance(properties[name], dict) else {}
        if isinstance(defaults, dict) and name in defaults:
            prop = {**prop, "default": defaults[name]}
        fields.append(_field_of(prop, path + [name], name in required, resources))
    return fields


def _field_of(prop: dict[str, Any], path: list[str], required: bool,
              resources: dict[str, list[str]] | None) -> dict[str, Any]:
    depth = len(path) - 1
    kind = field_kind(prop, depth)
    wanted = resource_type(prop)
    value_type = form_objects.free_form_type(prop) or "JSON or text"
    hint = {"json": main_type(prop) or "JSON", "datetime": "date-time, UTC",
            "list": f"list of {item_type(prop)}, one a line", "object": "object",
            "keyvalue": f"object, {value_type} values",
            "resource": f"{wanted} resource"}.get(kind, kind)
    text = _initial_text(kind, prop)
    options = (resources or {}).get(wanted, []) if wanted else [option_label(v) for v in prop.get("enum") or []]
    return {
        "name": ".".join(path),
        "label": str(prop.get("title") or path[-1]),
        "kind": kind,
        "required": required,
        "hint": hint if required else f"{hint}, optional",
        "description": str(prop.get("description") or ""),
        "value": text,
        "checked": kind == "boolean" and text == "true",
        "options": options,
        "placeholder": _placeholder(kind, wanted, bool(options)),
        "resource_type": wanted or "",
        "path": path,
        "depth": depth,
        "indent": f"{depth * 1.25}rem",
        "schema": prop if kind == "object" else {},
        "default": prop.get("default") if kind == "object" else None,
    }


def _placeholder(kind: str, wanted: str | None = None, any_option: bool = True) -> str:
    if kind == "resource":
        return f"choose a {wanted} resource…" if any_option else f"no {wanted} resource yet: add one under Resources"
    return {"json": "JSON, e.g. [1, 2] or {\"a\": 1}", "datetime": "2024-01-31T09:00:00Z", "list": "one item a line",
            "email": "name@example.com"}.get(kind, "")


