"""An HTML form the browser submits itself: a real POST and page load, no websocket event.

Reflex's own form always stops the browser's submit to send an event instead; a login
or logout must reach an HTTP endpoint that sets or clears an HttpOnly cookie, so it
needs the plain element.
"""

from __future__ import annotations

import reflex as rx
from reflex_components_core.el.elements.base import BaseHTML


class NativeForm(BaseHTML):
    """`<form action=... method=...>` without Reflex's submit handler."""

    tag = "form"

    action: rx.Var[str]
    method: rx.Var[str]


native_form = NativeForm.create
