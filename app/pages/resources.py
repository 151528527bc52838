"""Resources: the list, and a form generated from the chosen type's JSON Schema."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.states.resources import PATH_INPUT
from app.states.resources import ResourcesState as S
from components.confirm import confirm_button
from app.pages.layout import template
from components.schema_form import schema_form


def _resource_row(item: rx.Var[dict[str, str]]) -> rx.Component:
    path = item["path"].to(str)
    return rx.table.row(
        rx.table.cell(rx.code(path)), rx.table.cell(item["type"].to(str)),
        rx.table.cell(rx.code(item["value"].to(str))),
        rx.table.cell(confirm_button("Delete", "Delete this resource?",
                                     rx.text("Steps and schedules that name ", rx.code(path), " will fail."),
                                     S.delete(path), action="delete-resource")),
        custom_attrs={"data-resource-path": path},
    )


def _path_input() -> rx.Component:
    return rx.input(name=PATH_INPUT, placeholder="path, e.g. u/admin/my_db", width="16rem",
                    custom_attrs={"data-field": "res-path"})


def _raw_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text_area(name="value", placeholder='{"key": "...", "token": "$var:u/admin/token"}', rows="5",
                         width="100%", font_family="var(--code-font-family)", custom_attrs={"data-field": "res-value"}),
            rx.cond(S.raw_error != "", rx.text(S.raw_error, color_scheme="red", size="2",
                                               custom_attrs={"data-form-error": "resource-raw"})),
            rx.hstack(_path_input(),
                      rx.button("Save resource", type="submit", custom_attrs={"data-submit": "resource-raw"}),
                      align="center"),
            width="100%", spacing="2",
        ),
        on_submit=S.save_raw, reset_on_submit=False, key=S.form_key, width="100%",
        custom_attrs={"data-form": "resource-raw"},
    )


def _type_picker() -> rx.Component:
    return rx.hstack(
        rx.vstack(rx.text("Type", weight="medium", size="2"),
                  rx.select(S.type_names, value=S.chosen_type, on_change=S.choose_type, placeholder="choose a type…",
                            width="16rem"),
                  spacing="1", custom_attrs={"data-select": "res-type"}),
        rx.cond(S.chosen_has_fields, rx.hstack(
            rx.switch(checked=S.raw_json, on_change=S.set_raw_json, custom_attrs={"data-toggle": "raw-json"}),
            rx.text("raw JSON", size="2"), align="center", spacing="1")),
        rx.link("Resource types →", href=routes.RESOURCE_TYPES, size="2", margin_left="auto"),
        align="end", width="100%", spacing="4",
    )


def _value_form() -> rx.Component:
    hint = rx.text("String fields may hold a reference such as $var:u/admin/password.", size="1",
                   color_scheme="gray")
    return rx.cond(
        S.use_raw,
        _raw_form(),
        rx.cond(S.chosen_type != "",
                rx.vstack(hint, schema_form(S, S.save_fields, "Save resource", name="resource", extra=_path_input()),
                          width="100%", spacing="2")),
    )


@template("Resources", "Resources")
def page() -> rx.Component:
    return rx.vstack(
        rx.cond(S.problem != "", rx.text(S.problem, color_scheme="red", size="2",
                                         custom_attrs={"data-problem": "resources"})),
        rx.card(rx.vstack(rx.heading("New resource", size="3"), _type_picker(), _value_form(),
                          width="100%", spacing="3"), width="100%", max_width="48rem"),
        rx.cond(S.saved != "", rx.text("Saved ", rx.code(S.saved), size="2", color_scheme="green",
                                       custom_attrs={"data-saved": "resource"})),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("Path", "Type", "Value", "")])),
            rx.table.body(rx.foreach(S.resources, _resource_row)),
            width="100%", custom_attrs={"data-table": "resources"},
        ),
        width="100%", spacing="3",
    )
