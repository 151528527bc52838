"""Resource types: built-in and custom types with their fields, and a form to add one."""

from __future__ import annotations

import reflex as rx

from app.states.resource_types import ResourceTypesState as S
from app.pages.layout import template

SCHEMA_PLACEHOLDER = '{"type": "object", "required": ["key"], "properties": {"key": {"type": "string"}}}'


def _row(item: rx.Var[dict[str, str]]) -> rx.Component:
    name = item["name"].to(str)
    return rx.table.row(
        rx.table.cell(rx.code(name)), rx.table.cell(item["kind"].to(str)),
        rx.table.cell(item["fields"].to(str), custom_attrs={"data-type-fields": name}),
        rx.table.cell(item["description"].to(str)),
        custom_attrs={"data-type-name": name},
    )


def _error(message: rx.Var[str], field: str) -> rx.Component:
    return rx.cond(message != "", rx.text(message, color_scheme="red", size="2",
                                          custom_attrs={"data-field-error": field}))


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("New custom type", size="3"),
            rx.hstack(
                rx.input(name="name", placeholder="name, e.g. acme_api", width="16rem",
                         custom_attrs={"data-field": "type-name"}),
                rx.input(name="description", placeholder="description", width="24rem",
                         custom_attrs={"data-field": "type-description"}),
            ),
            _error(S.name_error, "type-name"),
            rx.text("JSON Schema of the value (draft 2020-12); its properties become the resource form's fields.",
                    size="1", color_scheme="gray"),
            rx.text_area(name="schema", placeholder=SCHEMA_PLACEHOLDER, rows="6", width="100%",
                         font_family="var(--code-font-family)", custom_attrs={"data-field": "type-schema"}),
            _error(S.schema_error, "type-schema"),
            rx.button("Add type", type="submit", custom_attrs={"data-action": "save-type"}),
            width="100%", spacing="2",
        ),
        on_submit=S.create, reset_on_submit=False, key=S.form_key, width="100%",
    )


@template("Resource types", "Resource types")
def page() -> rx.Component:
    return rx.vstack(
        rx.card(_form(), width="100%", max_width="48rem"),
        rx.cond(S.created != "", rx.text("Created type ", rx.code(S.created), size="2", color_scheme="green",
                                         custom_attrs={"data-created": "type"})),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Name", "Kind", "Fields", "Description")])),
            rx.table.body(rx.foreach(S.types, _row)),
            width="100%", custom_attrs={"data-table": "resource-types"},
        ),
        width="100%", spacing="3",
    )
