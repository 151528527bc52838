"""The app's page frame: its sidebar sections and who is logged in, in the shared template."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.states.session import SessionState
from components.layout import page_template
from components.native_form import native_form

SECTIONS = (
    ("Home", routes.HOME, "house"),
    ("Flows", routes.FLOWS, "workflow"),
    ("Scripts", routes.SCRIPTS, "file-code"),
    ("Runs", routes.RUNS, "list-checks"),
    ("Approvals", routes.APPROVALS, "circle-check"),
    ("Schedules", routes.SCHEDULES, "calendar-clock"),
    ("Resources", routes.RESOURCES, "database"),
    ("Resource types", routes.RESOURCE_TYPES, "braces"),
    ("Variables", routes.VARIABLES, "key-round"),
    ("API tokens", routes.TOKENS, "key"),
    ("Audit log", routes.AUDIT, "scroll-text"),
)


def who() -> rx.Component:
    """The logged-in user, their role and the way out."""
    return rx.vstack(
        rx.text(SessionState.username, size="2", weight="bold", custom_attrs={"data-user": "name"}),
        rx.text(SessionState.role, size="1", color_scheme="gray", custom_attrs={"data-user": "role"}),
        # A real POST: only an HTTP answer can clear the HttpOnly session cookie.
        native_form(
            rx.button("Log out", type="submit", size="1", variant="ghost", custom_attrs={"data-action": "log-out"}),
            action=routes.LOGOUT_PATH,
            method="post",
        ),
        margin_top="auto",
        spacing="1",
    )


template = page_template(SECTIONS, who)
