"""Run and step statuses as coloured badges."""

from __future__ import annotations

import reflex as rx

COLORS = {
    "success": "green",
    "failure": "red",
    "canceled": "gray",
    "running": "blue",
    "queued": "amber",
    "suspended": "purple",
    "waiting": "purple",
    "skipped": "gray",
}


def status_badge(status: rx.Var[str]) -> rx.Component:
    """A badge whose colour follows the status; `data-status` carries it for tests."""
    cases = [(name, rx.badge(name, color_scheme=color, variant="soft")) for name, color in COLORS.items()]
    return rx.box(
        rx.match(status, *cases, rx.badge(status, variant="soft")),
        custom_attrs={"data-status": status},
        display="inline-block",
    )
