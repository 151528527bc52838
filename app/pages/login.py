"""The login page: username and password start a session in this browser.

The form posts to the login endpoint itself (a page load, not a websocket event), which
sets the HttpOnly session cookie and sends the browser on, or back here with a reason.
"""

from __future__ import annotations

import reflex as rx

from app import routes
from app.states.session import LoginState as S
from components.native_form import native_form


def page() -> rx.Component:
    return rx.center(
        rx.card(
            native_form(
                rx.vstack(
                    rx.heading("Millrace", size="6"),
                    rx.input(name="username", placeholder="username", auto_complete="username",
                             custom_attrs={"data-field": "username"}),
                    rx.input(name="password", placeholder="password", type="password",
                             auto_complete="current-password", custom_attrs={"data-field": "password"}),
                    rx.el.input(type="hidden", name="next", value=S.next_path),
                    rx.button("Log in", type="submit", width="100%", custom_attrs={"data-action": "log-in"}),
                    rx.cond(S.problem != "", rx.text(S.problem, color_scheme="red", size="2",
                                                     custom_attrs={"data-problem": "login"})),
                    spacing="3",
                    width="18rem",
                ),
                action=routes.LOGIN_PATH,
                method="post",
            ),
        ),
        height="100vh",
    )
