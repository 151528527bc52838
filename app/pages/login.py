"""The login page: username and password start a session in this browser."""

from __future__ import annotations

import reflex as rx

from app.states.session import LoginState as S


def page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Millrace", size="6"),
                    rx.input(name="username", placeholder="username", custom_attrs={"data-field": "username"}),
                    rx.input(name="password", placeholder="password", type="password",
                             custom_attrs={"data-field": "password"}),
                    rx.button("Log in", type="submit", width="100%", custom_attrs={"data-action": "log-in"}),
                    rx.cond(S.problem != "", rx.text(S.problem, color_scheme="red", size="2",
                                                     custom_attrs={"data-problem": "login"})),
                    spacing="3",
                    width="18rem",
                ),
                on_submit=S.log_in,
            ),
        ),
        height="100vh",
    )
