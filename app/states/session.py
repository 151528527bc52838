"""Who is logged in to the web app: a session token in a cookie, checked on every page load."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import routes
from app.accounts import SESSION_LABEL, AccountError, Caller
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


class NotAdmin(AccountError):
    """An operator (or a lapsed session) asked the web app for an admin-only change."""


async def web_caller(state: rx.State) -> Caller | None:
    """Who the browser behind `state` acts as: its session token checked against the store.

    The token is looked up again on every call, so a deleted session or a changed role
    counts at once; the `username` and `role` vars are for display only.
    """
    session = await state.get_state(SessionState)
    return service.accounts.caller(session.session_token)


async def require_admin(state: rx.State, what: str) -> Caller:
    """The admin behind `state`, for a change that is theirs alone (`what`: "delete flows").

    Raises:
        NotAdmin: nobody valid is logged in, or the user is an operator.
    """
    who = await web_caller(state)
    if who is None:
        raise NotAdmin(f"Your session has ended: log in again to {what}.")
    if not who.is_admin:
        raise NotAdmin(f"Only admins may {what}; {who.username} is an operator.")
    return who


async def record(state: rx.State, action: str, target: str = "", detail: str = "") -> None:
    """Add an audit entry in the name of the user behind `state`."""
    who = await web_caller(state)
    service.accounts.record(who.username if who else "anonymous", action, target, detail)


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
