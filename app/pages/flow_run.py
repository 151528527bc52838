"""Run a flow: a form generated from the flow's schema; submitting opens the new run."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.states.flow_run import FlowRunState as S
from app.pages.layout import template
from components.schema_form import schema_form


@template("Run a flow", "Flows")
def page() -> rx.Component:
    return rx.cond(
        S.found,
        rx.vstack(
            rx.hstack(rx.code(S.path), rx.text(S.summary, color_scheme="gray"), align="center"),
            rx.cond(S.description != "", rx.text(S.description, size="2")),
            rx.box(schema_form(S, S.submit, "Run", name="flow-args"), max_width="40rem", width="100%"),
            rx.link("Edit this flow", href=routes.flow_editor_url(S.path), size="2"),
            width="100%",
            spacing="3",
        ),
        rx.vstack(rx.text("No flow at this path."), rx.link("Back to flows", href=routes.FLOWS)),
    )
