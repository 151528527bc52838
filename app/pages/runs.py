"""The runs list, filtered by flow, status, time range and trigger, newest first, a page at a time."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.views import triggers
from app.states.runs import RANGES, STATUSES, RunsState
from app.pages.layout import template
from components.runs_table import runs_table

RANGE_LABELS = {"all": "any time", "1h": "last hour", "24h": "last 24 h", "7d": "last 7 days", "30d": "last 30 days"}


def _filters() -> rx.Component:
    return rx.hstack(
        rx.select(RunsState.flow_paths, value=RunsState.flow, on_change=lambda v: RunsState.set_filter("flow", v),
                  custom_attrs={"data-filter": "flow"}),
        rx.select(list(STATUSES), value=RunsState.status, on_change=lambda v: RunsState.set_filter("status", v),
                  custom_attrs={"data-filter": "status"}),
        rx.select.root(
            rx.select.trigger(custom_attrs={"data-filter": "since"}),
            rx.select.content(*[rx.select.item(RANGE_LABELS[key], value=key) for key in RANGES]),
            value=RunsState.since,
            on_change=lambda v: RunsState.set_filter("since", v),
        ),
        rx.select.root(
            rx.select.trigger(custom_attrs={"data-filter": "trigger"}),
            rx.select.content(*[rx.select.item(text, value=key) for key, text in triggers.CHOICES.items()]),
            value=RunsState.trigger,
            on_change=lambda v: RunsState.set_filter("trigger", v),
        ),
        rx.hstack(rx.switch(checked=RunsState.subflows, on_change=lambda v: RunsState.set_filter("subflows", v),
                            custom_attrs={"data-filter": "subflows"}),
                  rx.text("subflow runs", size="2"), align="center", spacing="2"),
        align="center",
        spacing="3",
    )


@template("Runs", "Runs")
def page() -> rx.Component:
    return rx.vstack(
        _filters(),
        runs_table(RunsState.rows, routes.run_url, on_cancel=RunsState.cancel),
        rx.hstack(
            rx.button("Newer", on_click=RunsState.newer, disabled=~RunsState.has_newer, variant="soft"),
            rx.button("Older", on_click=RunsState.older, disabled=~RunsState.has_older, variant="soft"),
            rx.text(RunsState.total, " runs", color_scheme="gray", size="2", custom_attrs={"data-count": "runs"}),
            align="center",
        ),
        width="100%",
        spacing="3",
    )
