"""The flows list: search by path or summary, open a flow in the editor."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.states.flows import FlowsState
from components.layout import template


def _row(flow: rx.Var[dict[str, str]]) -> rx.Component:
    path = flow["path"].to(str)
    return rx.table.row(
        rx.table.cell(rx.link(path, href=routes.flow_editor_url(path))),
        rx.table.cell(flow["summary"].to(str)),
        rx.table.cell(flow["steps"].to(str)),
        rx.table.cell(flow["version"].to(str)),
        rx.table.cell(flow["edited"].to(str)),
        custom_attrs={"data-flow-path": path},
    )


@template("Flows", "Flows")
def page() -> rx.Component:
    return rx.vstack(
        rx.input(
            placeholder="Search flows by path or summary",
            value=FlowsState.query,
            on_change=FlowsState.set_query,
            width="24rem",
            custom_attrs={"data-field": "flow-search"},
        ),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(name)
                                           for name in ("Path", "Summary", "Steps", "Version", "Edited")])),
            rx.table.body(rx.foreach(FlowsState.visible, _row)),
            width="100%",
            custom_attrs={"data-table": "flows"},
        ),
        rx.cond(FlowsState.visible.length() == 0, rx.text("No flow matches.", color_scheme="gray")),
        width="100%",
        spacing="3",
    )
