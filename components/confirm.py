"""A button that asks before it acts: deleting a schedule, a variable or a resource is
one click away from a mistake otherwise."""

from __future__ import annotations

from typing import Any

import reflex as rx


def confirm_button(label: str, question: str, detail: Any, on_confirm: Any, *, action: str) -> rx.Component:
    """`label` opens a dialog asking `question` (with `detail` below it); only its own
    `label` button runs `on_confirm`. `action` names the buttons for tests and scripts:
    the opener is `data-action=<action>`, the confirming one `data-confirm=<action>`."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button(label, size="1", variant="soft", color_scheme="red",
                                          custom_attrs={"data-action": action})),
        rx.alert_dialog.content(
            rx.alert_dialog.title(question),
            rx.alert_dialog.description(detail),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                 custom_attrs={"data-cancel": action})),
                rx.alert_dialog.action(rx.button(label, color_scheme="red", on_click=on_confirm,
                                                 custom_attrs={"data-confirm": action})),
                justify="end", margin_top="1rem",
            ),
        ),
    )
