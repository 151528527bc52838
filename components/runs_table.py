"""A table of runs (rows from `app.present.run_row`), each linking to its page."""

from __future__ import annotations

import reflex as rx

from app import routes
from components.status import status_badge

HEADERS = ("Run", "Flow", "Status", "Trigger", "Started", "Duration")


def _row(run: rx.Var[dict[str, str]]) -> rx.Component:
    run_id = run["id"].to(str)
    return rx.table.row(
        rx.table.cell(rx.link(rx.code(run["short_id"].to(str)), href=routes.run_url(run_id))),
        rx.table.cell(run["path"].to(str)),
        rx.table.cell(status_badge(run["status"].to(str))),
        rx.table.cell(run["trigger"].to(str)),
        rx.table.cell(run["started"].to(str)),
        rx.table.cell(run["duration"].to(str)),
        custom_attrs={"data-run-id": run_id},
    )


def runs_table(rows: rx.Var[list[dict[str, str]]]) -> rx.Component:
    """The runs, or a line saying there are none."""
    return rx.cond(
        rows.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(name) for name in HEADERS])),
            rx.table.body(rx.foreach(rows, _row)),
            width="100%",
            custom_attrs={"data-table": "runs"},
        ),
        rx.text("No runs yet.", color_scheme="gray"),
    )
