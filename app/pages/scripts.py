"""The scripts list, and a form to start a new script."""

from __future__ import annotations

import reflex as rx

from app.services import catalog
from app import routes
from app.states.scripts import ScriptsState
from app.pages.layout import template


def _row(script: rx.Var[dict[str, str]]) -> rx.Component:
    path = script["path"].to(str)
    return rx.table.row(
        rx.table.cell(rx.link(rx.code(path), href=routes.script_editor_url(path))),
        rx.table.cell(script["language"].to(str)),
        rx.table.cell(script["summary"].to(str)),
        rx.table.cell(script["version"].to(str)),
        rx.table.cell(script["edited"].to(str)),
        custom_attrs={"data-script-path": path},
    )


def _new_script() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(name="path", placeholder="f/folder/new_script", width="18rem",
                     custom_attrs={"data-field": "new-script-path"}),
            rx.select(list(catalog.LANGUAGES), name="language", default_value="python3", width="9rem"),
            rx.button("New script", type="submit", custom_attrs={"data-action": "new-script"}),
            align="center",
        ),
        on_submit=ScriptsState.create,
        reset_on_submit=False,
    )


@template("Scripts", "Scripts")
def page() -> rx.Component:
    return rx.vstack(
        _new_script(),
        rx.cond(ScriptsState.problem != "", rx.text(ScriptsState.problem, color_scheme="red", size="2",
                                                    custom_attrs={"data-problem": "new-script"})),
        rx.cond(
            ScriptsState.scripts.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(name)
                                               for name in ("Path", "Language", "Summary", "Version", "Edited")])),
                rx.table.body(rx.foreach(ScriptsState.scripts, _row)),
                width="100%",
                custom_attrs={"data-table": "scripts"},
            ),
            rx.text("No scripts yet.", color_scheme="gray"),
        ),
        width="100%",
        spacing="3",
    )
