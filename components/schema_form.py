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

from typing import Any

import reflex as rx

from components.form_fields import KINDS, field_kind, resource_type, resource_types, schema_fields
from components.form_parse import parse_form, schema_errors
from components.key_value import key_value_editor

__all__ = ["KINDS", "SchemaFormState", "bound_field", "field_kind", "field_texts", "parse_form", "resource_type",
           "resource_types", "schema_errors", "schema_fields", "schema_form"]


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
        ("object", rx.fragment()),
        ("keyvalue", key_value_editor(name=name, default_value=value)),
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
        padding_left=field["indent"].to(str),
        # An object's fields hang from it, marked by a rule at their left.
        border_left=rx.cond(field["depth"].to(int) > 0, "2px solid var(--gray-a4)", "none"),
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
        ("object", rx.fragment()),
        ("keyvalue", key_value_editor(value=value, on_change=on_change, custom_attrs=attrs)),
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
