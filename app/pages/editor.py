"""The flow editor: placeholder (the editor, its state and canvas come later)."""

from __future__ import annotations

import reflex as rx

from app import routes
from components.layout import template


@template("Flow editor", "Flows")
def page() -> rx.Component:
    return rx.vstack(
        rx.text("The editor for this flow is not built yet."),
        rx.link("Back to flows", href=routes.FLOWS),
    )
