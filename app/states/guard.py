"""Deny-by-default for every web event: one check before any handler runs.

`EventGuard` is a Reflex app middleware: Reflex calls its `preprocess` for every event
(websocket or chained) before the handler runs; returning a `StateUpdate` means the
handler does not run at all. Open handlers: Reflex's own plumbing (hydrate, on_load
dispatch, client-storage sync) and the ones listed in `OPEN`; everything else needs a
session whose token `service.accounts.caller` accepts, and `@admin_only` handlers need
an admin.
"""

from __future__ import annotations

from typing import Any, Callable

import reflex as rx
from reflex.middleware import Middleware
from reflex.state import BaseState, StateUpdate
from reflex_base.event import fix_events

from app import routes
from app.accounts import Caller
from app.engine_service import service

ADMIN_ATTR = "_millrace_admin_only"

ALLOW, LOGIN, REFUSE = "allow", "login", "refuse"


def admin_only(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a handler as admin-only; put it under `@rx.event`."""
    setattr(fn, ADMIN_ATTR, True)
    return fn


def open_handlers() -> set[tuple[type, str]]:
    from app.states.session import LoginState
    return {(LoginState, "log_in")}


def is_framework(cls: type) -> bool:
    """Reflex's own states (root State, on_load / update-vars plumbing)."""
    return cls.__module__.split(".")[0] in ("reflex", "reflex_base")


def is_admin_only(cls: type, name: str) -> bool:
    handler = cls.event_handlers.get(name)
    return bool(handler is not None and getattr(handler.fn, ADMIN_ATTR, False))


def decide(cls: type, name: str, who: Caller | None) -> str:
    """ALLOW, LOGIN (no valid session: redirect) or REFUSE (operator, admin-only)."""
    if is_framework(cls) or (cls, name) in open_handlers():
        return ALLOW
    if who is None:
        return LOGIN
    if is_admin_only(cls, name) and not who.is_admin:
        return REFUSE
    return ALLOW


def resolve(root: type[BaseState], event_name: str) -> tuple[type | None, str]:
    path, _, name = event_name.rpartition(".")
    try:
        parts = path.split(".")
        if parts[0] != root.get_name():
            return None, name
        cls = root.get_class_substate(parts[1:]) if len(parts) > 1 else root
    except (ValueError, KeyError, AttributeError):
        return None, name
    return cls, name


class EventGuard(Middleware):
    """Runs `decide` for each event; a denied event runs nothing and gets a redirect."""

    async def preprocess(self, app: Any, state: BaseState, event: Any) -> StateUpdate | None:
        from app.states.session import SessionState
        root = type(state._get_root_state())
        cls, name = resolve(root, event.name)
        if cls is not None and (is_framework(cls) or (cls, name) in open_handlers()):
            return None
        who = None
        if cls is not None:
            session = await state.get_state(SessionState)
            who = service.accounts.caller(session.session_token)
        verdict = decide(cls, name, who) if cls is not None else LOGIN
        if verdict == ALLOW:
            return None
        if verdict == LOGIN:
            return StateUpdate(delta={}, events=fix_events([rx.redirect(routes.LOGIN)]))
        return StateUpdate(delta={}, events=fix_events(
            [rx.toast.error(f"Only admins may do this; {who.username} is an operator.")]))
