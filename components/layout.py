"""The page template: a sidebar of sections beside the page's own content."""

from __future__ import annotations

import functools
from typing import Callable

import reflex as rx

from app import routes
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

PageFn = Callable[[], rx.Component]


def sidebar(active: str) -> rx.Component:
    """The navigation column; `active` is the label of the current section."""
    links = [
        rx.link(
            rx.hstack(rx.icon(icon, size=16), rx.text(label), spacing="2", align="center"),
            href=href,
            underline="none",
            weight="bold" if label == active else "regular",
            color_scheme="iris" if label == active else "gray",
            high_contrast=label != active,
            padding_y="0.4rem",
            custom_attrs={"data-nav": label.lower().replace(" ", "-")},
        )
        for label, href, icon in SECTIONS
    ]
    return rx.vstack(
        rx.heading("Millrace", size="5", margin_bottom="1rem"),
        *links,
        _who(),
        width="12rem",
        height="100vh",
        position="sticky",
        top="0",
        padding="1.25rem",
        border_right="1px solid var(--gray-a5)",
        spacing="1",
        flex_shrink="0",
    )


def _who() -> rx.Component:
    from app.rest.session_api import LOGOUT_PATH
    from app.states.session import SessionState

    return rx.vstack(
        rx.text(SessionState.username, size="2", weight="bold", custom_attrs={"data-user": "name"}),
        rx.text(SessionState.role, size="1", color_scheme="gray", custom_attrs={"data-user": "role"}),
        # A real POST: only an HTTP answer can clear the HttpOnly session cookie.
        native_form(
            rx.button("Log out", type="submit", size="1", variant="ghost", custom_attrs={"data-action": "log-out"}),
            action=LOGOUT_PATH,
            method="post",
        ),
        margin_top="auto",
        spacing="1",
    )


def template(title: str, section: str) -> Callable[[PageFn], PageFn]:
    """Wrap a page's content in the shared layout: sidebar, then a titled main column."""

    def decorate(content: PageFn) -> PageFn:
        @functools.wraps(content)
        def page() -> rx.Component:
            return rx.hstack(
                sidebar(section),
                rx.box(
                    rx.heading(title, size="6", margin_bottom="1rem"),
                    content(),
                    padding="1.5rem",
                    width="100%",
                    min_width="0",
                ),
                spacing="0",
                align="start",
                width="100%",
            )

        return page

    return decorate
