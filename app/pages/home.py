"""Home: counts and the most recent runs."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.states.home import HomeState
from components.layout import template
from components.runs_table import runs_table


def _stat(label: str, value: rx.Var[int], href: str) -> rx.Component:
    return rx.link(
        rx.card(rx.vstack(rx.text(label, size="2", color_scheme="gray"), rx.heading(value, size="6"))),
        href=href,
        underline="none",
    )


@template("Home", "Home")
def page() -> rx.Component:
    return rx.vstack(
        rx.hstack(_stat("Flows", HomeState.flow_count, routes.FLOWS), _stat("Runs", HomeState.run_count, routes.RUNS)),
        rx.heading("Recent runs", size="4", margin_top="1rem"),
        runs_table(HomeState.recent),
        width="100%",
        spacing="3",
    )
