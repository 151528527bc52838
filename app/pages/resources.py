"""Resources and resource types: lists, and forms to add a resource or a custom type."""

from __future__ import annotations

import reflex as rx

from app.states.resources import ResourcesState as S
from components.layout import template


def _type_row(item: rx.Var[dict[str, str]]) -> rx.Component:
    name = item["name"].to(str)
    return rx.table.row(rx.table.cell(rx.code(name)), rx.table.cell(item["kind"].to(str)),
                        rx.table.cell(item["fields"].to(str)), custom_attrs={"data-type-name": name})


def _resource_row(item: rx.Var[dict[str, str]]) -> rx.Component:
    path = item["path"].to(str)
    return rx.table.row(
        rx.table.cell(rx.code(path)), rx.table.cell(item["type"].to(str)),
        rx.table.cell(rx.code(item["value"].to(str))),
        rx.table.cell(rx.button("Delete", size="1", variant="soft", color_scheme="red", on_click=S.delete(path))),
        custom_attrs={"data-resource-path": path},
    )


def _table(name: str, headers: tuple[str, ...], rows: rx.Var, render: object) -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(rows, render)),
        width="100%", custom_attrs={"data-table": name},
    )


def _resource_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(name="path", placeholder="u/admin/my_db", width="12rem", custom_attrs={"data-field": "res-path"}),
            rx.input(name="resource_type", placeholder="type, e.g. postgresql", width="12rem",
                     custom_attrs={"data-field": "res-type"}),
            rx.text_area(name="value", placeholder='{"host": "...", "password": "$var:u/admin/pw"}', width="24rem",
                         custom_attrs={"data-field": "res-value"}),
            rx.button("Save resource", type="submit", custom_attrs={"data-action": "save-resource"}),
            align="center",
        ),
        on_submit=S.save_resource, reset_on_submit=False,
    )


def _type_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(name="name", placeholder="new_type", width="12rem", custom_attrs={"data-field": "type-name"}),
            rx.text_area(name="schema", placeholder='{"type": "object", "properties": {...}}', width="24rem",
                         custom_attrs={"data-field": "type-schema"}),
            rx.button("Add type", type="submit", custom_attrs={"data-action": "save-type"}),
            align="center",
        ),
        on_submit=S.save_type, reset_on_submit=False,
    )


@template("Resources", "Resources")
def page() -> rx.Component:
    return rx.vstack(
        rx.cond(S.problem != "", rx.text(S.problem, color_scheme="red", size="2",
                                         custom_attrs={"data-problem": "resources"})),
        rx.heading("Resources", size="4"),
        _resource_form(),
        _table("resources", ("Path", "Type", "Value", ""), S.resources, _resource_row),
        rx.heading("Resource types", size="4"),
        _type_form(),
        _table("resource-types", ("Name", "Kind", "Fields"), S.types, _type_row),
        width="100%", spacing="3",
    )
