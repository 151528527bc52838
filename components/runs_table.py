"""A table of runs (rows from `app.views.present.run_row`), each linking to its page (the
app gives the URL of a run id)."""

from __future__ import annotations

from typing import Any, Callable

import reflex as rx

from components.status import status_badge

HEADERS = ("Run", "Flow", "Status", "Trigger", "Started", "Duration")
UNFINISHED = ("queued", "running", "suspended")


def _cancel_cell(run: rx.Var[dict[str, str]], on_cancel: Any) -> rx.Component:
    """A button that cancels the run while it has yet to end."""
    status = run["status"].to(str)
    unfinished = (status == UNFINISHED[0]) | (status == UNFINISHED[1]) | (status == UNFINISHED[2])
    return rx.table.cell(rx.cond(unfinished, rx.button(
        "Cancel", size="1", color_scheme="red", variant="soft", on_click=on_cancel(run["id"].to(str)),
        custom_attrs={"data-action": "cancel"})))


def _row(run: rx.Var[dict[str, str]], run_url: Callable[[Any], Any], on_cancel: Any = None) -> rx.Component:
    run_id = run["id"].to(str)
    actions = [] if on_cancel is None else [_cancel_cell(run, on_cancel)]
    return rx.table.row(
        rx.table.cell(rx.link(rx.code(run["short_id"].to(str)), href=run_url(run_id))),
        rx.table.cell(run["path"].to(str)),
        rx.table.cell(status_badge(run["status"].to(str))),
        rx.table.cell(run["trigger"].to(str)),
        rx.table.cell(run["started"].to(str)),
        rx.table.cell(run["duration"].to(str)),
        *actions,
        custom_attrs={"data-run-id": run_id},
    )


def runs_table(rows: rx.Var[list[dict[str, str]]], run_url: Callable[[Any], Any],
               on_cancel: Any = None) -> rx.Component:
    """The runs, or a line saying there are none; each run links to `run_url(id)`. With
    `on_cancel` (an event handler taking a run id), a Cancel button on each run that has
    yet to end."""
    headers = HEADERS + (() if on_cancel is None else ("",))
    return rx.cond(
        rows.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(name) for name in headers])),
            rx.table.body(rx.foreach(rows, lambda run: _row(run, run_url, on_cancel))),
            width="100%",
            custom_attrs={"data-table": "runs"},
        ),
        rx.text("No runs yet.", color_scheme="gray"),
    )
