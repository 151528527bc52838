"""A form generated from a JSON Schema (a flow's schema, or a script's `main` signature).

The schema becomes a flat list of field dicts (`schema_fields`, pure), rendered with
`rx.foreach` + `rx.match` on the field's kind. Inputs are uncontrolled (their defaults
come from the schema; `form_key` resets them), so typing sends nothing to the server; the
form's submit hands every value over at once. `parse_form` (pure) turns those texts into
typed args and checks them with jsonschema, keeping one message per field, which the form
shows under that field.

A page state mixes in `SchemaFormState` and defines its own submit handler:

    class MyState(SchemaFormState, rx.State):
        @rx.event
        def submit(self, form_data: dict):
            args = self.check_form(form_data)
            if args is not None:
                ...

    schema_form(MyState, MyState.submit, "Run")
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import reflex as rx
from jsonschema import FormatChecker, validators

KINDS = ("string", "email", "date", "datetime", "integer", "number", "boolean", "enum", "list", "json", "resource")
LIST_ITEMS = ("string", "integer", "number")
"""Item types a list is edited as lines of (one item a line); other lists are JSON text."""
RESOURCE_FORMAT = "resource-"
"""Windmill's format of a resource argument: `resource-postgresql` takes a postgresql resource."""
RESOURCE_PREFIX = "$res:"
_FORMAT_KINDS = {"email": "email", "date": "date", "date-time": "datetime"}
_TYPE_KINDS = {"integer": "integer", "number": "number", "boolean": "boolean",
               "array": "json", "object": "json", "string": "string"}


def _main_type(prop: dict[str, Any]) -> str:
    """The property's type, ignoring "null" in a type list (an optional value)."""
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and isinstance(prop.get("anyOf"), list):
        kind = next((_main_type(p) for p in prop["anyOf"] if isinstance(p, dict) and p.get("type") != "null"), None)
    return kind if isinstance(kind, str) else ""


def resource_type(prop: dict[str, Any]) -> str | None:
    """The resource type a property takes (`format: resource-<type>`), or None."""
    text = str(prop.get("format") or "")
    return text[len(RESOURCE_FORMAT):] if text.startswith(RESOURCE_FORMAT) and len(text) > len(RESOURCE_FORMAT) else None


def field_kind(prop: dict[str, Any]) -> str:
    """Which input a schema property gets (one of KINDS); unknown shapes are JSON text."""
    if resource_type(prop) is not None:
        return "resource"
    if isinstance(prop.get("enum"), list) and prop["enum"]:
        return "enum"
    kind = _main_type(prop)
    if kind == "string":
        return _FORMAT_KINDS.get(str(prop.get("format", "")), "string")
    if kind == "array" and _item_type(prop) in LIST_ITEMS:
        return "list"
    return _TYPE_KINDS.get(kind, "json")


def _item_type(prop: dict[str, Any]) -> str:
    items = prop.get("items")
    return _main_type(items) if isinstance(items, dict) and not items.get("enum") else ""


def option_label(value: Any) -> str:
    """How an enum value is shown (and submitted) in a select."""
    return value if isinstance(value, str) else json.dumps(value)


def _initial_text(kind: str, prop: dict[str, Any]) -> str:
    if "default" not in prop or prop["default"] is None:
        return ""
    if prop["default"] == "" and _main_type(prop) == "object":
        return ""  # Windmill's UI writes "" as an object parameter's "no default"
    default = prop["default"]
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
        moment = _moment(str(default))
        return moment.strftime("%Y-%m-%dT%H:%M:%S") if moment is not None else ""
    return str(default)


def _moment(text: str) -> datetime.datetime | None:
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
    """One dict per top-level property, in the schema's `order` (Windmill's), else as written.

    Keys: name, label, kind, required (bool), hint (type and "optional"), description,
    value (initial text), checked (initial switch state), options (enum labels; for a
    resource argument the paths of `resources[type]`, the resources of its type).
    """
    schema = schema or {}
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    fields = []
    for name in _ordered_names(schema):
        prop = properties[name] if isinstance(properties[name], dict) else {}
        kind = field_kind(prop)
        wanted = resource_type(prop)
        hint = {"json": _main_type(prop) or "JSON", "datetime": "date-time, UTC",
                "list": f"list of {_item_type(prop)}, one a line",
                "resource": f"{wanted} resource"}.get(kind, kind)
        text = _initial_text(kind, prop)
        options = (resources or {}).get(wanted, []) if wanted else [option_label(v) for v in prop.get("enum") or []]
        fields.append({
            "name": name,
            "label": str(prop.get("title") or name),
            "kind": kind,
            "required": name in required,
            "hint": hint if name in required else f"{hint}, optional",
            "description": str(prop.get("description") or ""),
            "value": text,
            "checked": kind == "boolean" and text == "true",
            "options": options,
            "placeholder": _placeholder(kind, wanted, bool(options)),
        })
    return fields


def _placeholder(kind: str, wanted: str | None = None, any_option: bool = True) -> str:
    if kind == "resource":
        return f"choose a {wanted} resource…" if any_option else f"no {wanted} resource yet: add one under Resources"
    return {"json": "JSON, e.g. [1, 2] or {\"a\": 1}", "datetime": "2024-01-31T09:00:00Z", "list": "one item a line",
            "email": "name@example.com"}.get(kind, "")


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
        moment = _moment(text) if "T" in text.upper() else None
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
    if kind == "json":
        try:
            return json.loads(text), ""
        except json.JSONDecodeError as exc:
            return None, f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    return str(raw), ""


def _items(prop: dict[str, Any], text: str) -> tuple[Any, str]:
    """The items of a list typed one a line (blank lines skipped), each of the list's item
    type, or the first line that is not."""
    kind, items = _item_type(prop), []
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
    is off is `false`. Messages for problems that belong to no field are keyed "".
    """
    schema = schema or {}
    properties = schema.get("properties") or {}
    args: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in schema_fields(schema):
        name, raw = field["name"], form_data.get(field["name"])
        if field["kind"] == "boolean":
            args[name] = raw in (True, "on", "true")
            continue
        if raw is None or str(raw).strip() == "":
            if field["required"]:
                errors[name] = "is required"
            continue
        value, problem = _coerce(field, properties.get(name) or {}, raw)
        if problem:
            errors[name] = problem
        else:
            args[name] = value
    for name, message in schema_errors(schema, args).items():
        errors.setdefault(name, message)
    return args, errors


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


def schema_errors(schema: dict[str, Any], args: dict[str, Any]) -> dict[str, str]:
    """jsonschema's first message per top-level property ("" for the args as a whole)."""
    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    # A picked resource ("$res:path") stands for its value, checked when it was saved.
    args = {name: value for name, value in args.items()
            if not (isinstance(value, str) and value.startswith(RESOURCE_PREFIX)
                    and resource_type(properties.get(name) or {}) is not None)}
    errors: dict[str, str] = {}
    for error in cls(schema, format_checker=_CHECKER).iter_errors(args):
        if error.validator == "required":
            continue  # blank required inputs were reported by parse_form already
        name = str(error.absolute_path[0]) if error.absolute_path else ""
        errors.setdefault(name, _field_message(error))
    return errors


def _field_message(error: Any) -> str:
    if error.validator == "format":
        return f"must be a valid {error.validator_value}"
    if len(error.absolute_path) > 1:
        inner = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in list(error.absolute_path)[1:])
        return f"{inner.lstrip('.')}: {error.message}"
    return error.message


class SchemaFormState(rx.State, mixin=True):
    """The schema a form is built from, its per-field messages, and a key to reset it."""

    form_schema: dict[str, Any] = {}
    form_resources: dict[str, list[str]] = {}
    """Paths of the resources a resource argument may take, by resource type."""
    form_errors: dict[str, str] = {}
    form_key: int = 0

    @rx.var
    def form_fields(self) -> list[dict[str, Any]]:
        """The fields to render, each with its current message under "error"."""
        fields = schema_fields(self.form_schema, self.form_resources)
        for field in fields:
            field["error"] = self.form_errors.get(field["name"], "")
        return fields

    @rx.var
    def form_message(self) -> str:
        """A problem that belongs to no single field."""
        return self.form_errors.get("", "")

    def show_schema(self, schema: dict[str, Any] | None, resources: dict[str, list[str]] | None = None) -> None:
        """Build the form from `schema`, with every input back at its default; `resources`
        lists, by type, the resources its resource arguments may take."""
        self.form_schema = dict(schema or {})
        self.form_resources = dict(resources or {})
        self.form_errors = {}
        self.form_key += 1

    def check_form(self, form_data: dict[str, Any]) -> dict[str, Any] | None:
        """The typed args, or None after putting each problem at its field."""
        args, errors = parse_form(self.form_schema, form_data)
        self.form_errors = errors
        return None if errors else args


def _label(field: rx.Var[dict[str, Any]]) -> rx.Component:
    return rx.hstack(
        rx.text(field["label"].to(str), weight="medium", size="2"),
        rx.text(field["hint"].to(str), size="1", color_scheme="gray"),
        align="baseline",
        spacing="2",
    )


def _input(field: rx.Var[dict[str, Any]]) -> rx.Component:
    name = field["name"].to(str)
    value = field["value"].to(str)
    placeholder = field["placeholder"].to(str)
    text_input = rx.input(name=name, default_value=value, placeholder=placeholder, width="100%")
    return rx.match(
        field["kind"].to(str),
        ("boolean", rx.switch(name=name, default_checked=field["checked"].to(bool))),
        ("enum", rx.select(field["options"].to(list[str]), name=name, default_value=value,
                           placeholder="choose…", width="100%")),
        ("resource", rx.select(field["options"].to(list[str]), name=name, default_value=value,
                               placeholder=placeholder, width="100%")),
        ("json", rx.text_area(name=name, default_value=value, placeholder=placeholder, rows="3",
                              width="100%", font_family="var(--code-font-family)")),
        ("list", rx.text_area(name=name, default_value=value, placeholder=placeholder, rows="4", width="100%")),
        ("integer", rx.input(name=name, default_value=value, input_mode="numeric", width="100%")),
        ("number", rx.input(name=name, default_value=value, input_mode="decimal", width="100%")),
        ("email", rx.input(name=name, default_value=value, type="email", placeholder=placeholder, width="100%")),
        ("date", rx.input(name=name, default_value=value, type="date", width="100%")),
        ("datetime", rx.input(name=name, default_value=value, type="datetime-local", step="1", width="100%")),
        text_input,
    )


def _field(field: rx.Var[dict[str, Any]]) -> rx.Component:
    return _framed(field, _input(field))


def _framed(field: rx.Var[dict[str, Any]], control: rx.Component) -> rx.Component:
    """A field's control with its label, hint, description and message."""
    name = field["name"].to(str)
    error = field["error"].to(str)
    return rx.box(
        _label(field),
        rx.cond(field["description"].to(str) != "",
                rx.text(field["description"].to(str), size="1", color_scheme="gray")),
        rx.box(control, margin_top="0.25rem"),
        rx.cond(error != "", rx.text(error, color_scheme="red", size="2",
                                     custom_attrs={"data-field-error": name})),
        custom_attrs={"data-field": name, "data-kind": field["kind"].to(str)},
        width="100%",
    )


def _bound_input(field: rx.Var[dict[str, Any]], value: rx.Var[str], on_change: Any) -> rx.Component:
    """`_input`'s control for each kind, showing `value` and sending each change."""
    name = field["name"].to(str)
    placeholder = field["placeholder"].to(str)
    attrs = {"data-arg": name}

    def text(**props: Any) -> rx.Component:
        return rx.input(value=value, on_change=on_change, width="100%", custom_attrs=attrs, **props)

    return rx.match(
        field["kind"].to(str),
        ("boolean", rx.switch(checked=value == "true", on_change=on_change, custom_attrs=attrs)),
        ("enum", rx.select(field["options"].to(list[str]), value=value, on_change=on_change, placeholder="choose…",
                           width="100%", custom_attrs=attrs)),
        ("resource", rx.select(field["options"].to(list[str]), value=value, on_change=on_change,
                               placeholder=placeholder, width="100%", custom_attrs=attrs)),
        ("json", rx.text_area(value=value, on_change=on_change, placeholder=placeholder, rows="3", width="100%",
                              font_family="var(--code-font-family)", custom_attrs=attrs)),
        ("list", rx.text_area(value=value, on_change=on_change, placeholder=placeholder, rows="4", width="100%",
                              custom_attrs=attrs)),
        ("integer", text(input_mode="numeric")),
        ("number", text(input_mode="decimal")),
        ("email", text(type="email", placeholder=placeholder)),
        ("date", text(type="date")),
        ("datetime", text(type="datetime-local", step="1")),
        text(placeholder=placeholder),
    )


def bound_field(field: rx.Var[dict[str, Any]], value: rx.Var[str], on_change: Any) -> rx.Component:
    """One field of a generated form whose text lives in the page's state (`value`, changed
    through `on_change(text)`), where other controls than a submit button need it: the
    editor's previews. Label, hint, description and message as `schema_form` shows them."""
    return _framed(field, _bound_input(field, value, on_change))


def field_texts(fields: list[dict[str, Any]], texts: dict[str, str]) -> dict[str, Any]:
    """Form data as a submitted form would give it: each field's text (its initial text
    when never edited), a switch as on/off."""
    data: dict[str, Any] = {}
    for field in fields:
        text = texts.get(field["name"], "true" if field["checked"] else field["value"])
        data[field["name"]] = text == "true" if field["kind"] == "boolean" else text
    return data


def schema_form(state: Any, on_submit: Any, submit_label: str = "Submit", *, name: str = "args",
                extra: rx.Component | None = None) -> rx.Component:
    """The form of `state.form_fields`, a submit button, and a message for the whole form.

    Args:
        state: a state class that mixes in SchemaFormState.
        on_submit: its handler taking the form data dict.
        submit_label: the button's text.
        name: `data-form` attribute of the form (a stable selector).
        extra: shown beside the submit button (e.g. a running indicator).
    """
    return rx.form(
        rx.vstack(
            rx.foreach(state.form_fields, _field),
            rx.cond(state.form_fields.length() == 0, rx.text("No inputs.", size="2", color_scheme="gray")),
            rx.cond(state.form_message != "", rx.text(state.form_message, color_scheme="red", size="2",
                                                      custom_attrs={"data-form-error": name})),
            rx.hstack(rx.button(submit_label, type="submit", custom_attrs={"data-submit": name}),
                      extra if extra is not None else rx.fragment(), align="center"),
            spacing="3",
            width="100%",
        ),
        on_submit=on_submit,
        reset_on_submit=False,
        no_validate=True,
        key=state.form_key,
        custom_attrs={"data-form": name},
        width="100%",
    )
