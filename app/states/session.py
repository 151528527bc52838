"""Who is logged in to the web app: a session token in a cookie, checked on every page load."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import routes
from app.accounts import SESSION_LABEL
from app.engine_service import service

SESSION_COOKIE = "millrace_session"
SESSION_DAYS = 14


class SessionState(rx.State):
    """The session token (an API token labelled "session") and whom it belongs to."""

    session_token: str = rx.Cookie("", name=SESSION_COOKIE, max_age=SESSION_DAYS * 86400)
    username: str = ""
    role: str = ""

    @rx.event
    def require_login(self) -> Any:
        """Every page but the login page loads this first: no valid session, no page."""
        who = service.accounts.caller(self.session_token)
        if who is None:
            self.username, self.role = "", ""
            return rx.redirect(routes.LOGIN)
        self.username, self.role = who.username, who.role
        return None

    @rx.event
    def log_out(self) -> Any:
        service.accounts.end_session(self.session_token)
        self.session_token, self.username, self.role = "", "", ""
        return rx.redirect(routes.LOGIN)


class LoginState(SessionState):
    """The login form's last problem."""

    problem: str = ""

    @rx.event
    def log_in(self, form_data: dict[str, Any]) -> Any:
        who = service.accounts.check_password(str(form_data.get("username") or ""),
                                              str(form_data.get("password") or ""))
        if who is None:
            self.problem = "Wrong username or password."
            return None
        self.problem = ""
        self.session_token = service.accounts.create_token(who, SESSION_LABEL)
        self.username, self.role = who.username, who.role
        service.accounts.record(who.username, "login", "web")
        return rx.redirect(routes.HOME)
