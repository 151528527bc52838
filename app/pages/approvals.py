"""Approvals: placeholder until the approvals page is built."""

from __future__ import annotations

import reflex as rx

from components.layout import template


@template("Approvals", "Approvals")
def page() -> rx.Component:
    return rx.text("Runs waiting for approval will be listed here.", color_scheme="gray")
