"""The runs list, newest first, a page at a time."""

from __future__ import annotations

import reflex as rx

from app.states.runs import RunsState
from components.layout import template
from components.runs_table import runs_table


@template("Runs", "Runs")
def page() -> rx.Component:
    return rx.vstack(
        runs_table(RunsState.rows),
        rx.hstack(
            rx.button("Newer", on_click=RunsState.newer, disabled=~RunsState.has_newer, variant="soft"),
            rx.button("Older", on_click=RunsState.older, disabled=~RunsState.has_older, variant="soft"),
            rx.text(RunsState.total, " runs", color_scheme="gray", size="2"),
            align="center",
        ),
        width="100%",
        spacing="3",
    )
