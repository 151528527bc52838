"""Who is logged in, as the pages show it, and the login page's state.

The session itself is an HttpOnly cookie set by `app.rest.session_api`; `app.states.guard`
checks it before every event. These states only show its user and the login form's
last problem.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import routes
from app.services.accounts import too_many
from app.services.engine_service import service
from app.states.guard import caller, open_to_anyone


class SessionState(rx.State):
    """The logged-in user's name and role (for display; the guard decides on the cookie)."""

    username: str = ""
    role: str = ""

    @rx.event
    def show_user(self) -> None:
        """Every page but the login page loads this first (a page without a session
        never gets here: the guard sends it to the login page)."""
        who = caller()
        self.username, self.role = who.username, who.role


def record(action: str, target: str = "", detail: str = "") -> None:
    """Add an audit entry in the name of the user the current event acts for."""
    service.accounts.record(caller().username, action, target, detail)


class LoginState(rx.State):
    """The login form: where to go after it, and why the last try failed."""

    next_path: str = ""
    problem: str = ""

    @rx.event
    @open_to_anyone
    def load(self) -> None:
        """Read `?next=` and `?failed=` (set by the login endpoint's redirect back here)."""
        params: dict[str, Any] = dict(self.router.url.query_parameters)
        self.next_path = routes.safe_next(str(params.get("next") or ""))
        self.problem = _problem(str(params.get("failed") or ""), str(params.get("wait") or ""))


def _problem(failed: str, wait: str) -> str:
    if failed == routes.THROTTLED and wait.isdigit():
        return too_many(float(wait)).capitalize() + "."
    return "Wrong username or password." if failed else ""
