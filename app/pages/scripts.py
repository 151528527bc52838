"""The scripts list."""

from __future__ import annotations

import reflex as rx

from app.states.scripts import ScriptsState
from components.layout import template


def _row(script: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(script["path"].to(str))),
        rx.table.cell(script["language"].to(str)),
        rx.table.cell(script["summary"].to(str)),
        rx.table.cell(script["version"].to(str)),
        rx.table.cell(script["edited"].to(str)),
    )


@template("Scripts", "Scripts")
def page() -> rx.Component:
    return rx.cond(
        ScriptsState.scripts.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(name)
                                           for name in ("Path", "Language", "Summary", "Version", "Edited")])),
            rx.table.body(rx.foreach(ScriptsState.scripts, _row)),
            width="100%",
            custom_attrs={"data-table": "scripts"},
        ),
        rx.text("No scripts yet.", color_scheme="gray"),
    )
