"""Variables: a form to create or update one, and the list (secret values shown masked)."""

from __future__ import annotations

import reflex as rx

from app.states.variables import VariablesState as S
from components.confirm import confirm_button
from app.pages.layout import template


def _row(item: rx.Var[dict[str, str]]) -> rx.Component:
    path = item["path"].to(str)
    return rx.table.row(
        rx.table.cell(rx.code(path)),
        rx.table.cell(rx.code(item["value"].to(str)), custom_attrs={"data-value": path}),
        rx.table.cell(rx.cond(item["secret"].to(str) != "", rx.badge("secret", color_scheme="amber"))),
        rx.table.cell(item["description"].to(str)),
        rx.table.cell(rx.hstack(
            rx.button("Edit", size="1", variant="soft", on_click=S.edit(path),
                      custom_attrs={"data-action": "edit-variable"}),
            confirm_button("Delete", "Delete this variable?",
                           rx.text("Steps and resources that name ", rx.code(path), " will fail."),
                           S.delete(path), action="delete-variable"),
            spacing="2")),
        custom_attrs={"data-variable-path": path},
    )


def _form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(name="path", placeholder="u/admin/name", width="14rem", value=S.form_path,
                     on_change=S.set_form_path, read_only=S.editing != "", custom_attrs={"data-field": "var-path"}),
            rx.input(name="value", type="password", width="14rem", value=S.form_value, on_change=S.set_form_value,
                     placeholder=rx.cond(S.editing_secret, "unchanged (secret)", "value"),
                     custom_attrs={"data-field": "var-value"}),
            rx.input(name="description", placeholder="description", width="14rem", value=S.form_description,
                     on_change=S.set_form_description, custom_attrs={"data-field": "var-description"}),
            rx.hstack(rx.checkbox(name="is_secret", checked=S.form_secret, on_change=S.set_form_secret,
                                  custom_attrs={"data-field": "var-secret"}),
                      rx.text("secret"), align="center", spacing="1"),
            rx.button(rx.cond(S.editing != "", "Save changes", "Save variable"), type="submit",
                      custom_attrs={"data-action": "save-variable"}),
            rx.cond(S.editing != "", rx.button("Cancel", type="button", variant="soft", color_scheme="gray",
                                               on_click=S.clear_form, custom_attrs={"data-action": "cancel-edit"})),
            align="center",
        ),
        on_submit=S.save,
        reset_on_submit=False,
    )


@template("Variables", "Variables")
def page() -> rx.Component:
    return rx.vstack(
        _form(),
        rx.cond(S.problem != "", rx.text(S.problem, color_scheme="red", size="2",
                                         custom_attrs={"data-problem": "variables"})),
        rx.cond(
            S.variables.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Path", "Value", "", "Description", "")])),
                rx.table.body(rx.foreach(S.variables, _row)),
                width="100%",
                custom_attrs={"data-table": "variables"},
            ),
            rx.text("No variables yet.", color_scheme="gray"),
        ),
        width="100%",
        spacing="3",
    )
