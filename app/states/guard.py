"""Deny by default for every web event: one check before any handler runs.

`EventGuard` is a Reflex app middleware: Reflex calls its `preprocess` before every
event (sent over the websocket, chained by a handler, or started by an upload), and an
answer from it means the handler does not run. It reads the session from the cookie
of the websocket handshake (`app.services.sessions.secret_from`) and looks it up in the store
for every event (off the web loop, `app.services.offloop`), so a logout or a role change counts
at once; while the database is away the event is answered with a toast saying so. Then:

- Reflex's own plumbing (hydrate, on-load dispatch, client storage) runs; a hydrate
  without a session first resets every page state, so its snapshot holds no page data.
- Handlers marked `@open_to_anyone` (the login page's) run.
- Every other handler needs a session, else a redirect to the login page; one marked
  `@admin_only(what)` also needs an admin, else an error toast.

Handlers learn who they act for from `caller()`, as checked here.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Callable, Iterator
from urllib.parse import urlencode

import reflex as rx
from reflex.middleware import Middleware
from reflex.state import BaseState, State, StateUpdate
from reflex_base.event import Event
from reflex_base.registry import RegistrationContext

from app import routes
from app.services.accounts import Caller
from app.services.offloop import DatabaseUnavailable, off_loop, serving_a_page
from app.services.sessions import secret_from

ALLOW, LOGIN, REFUSE = "allow", "login", "refuse"
_ADMIN_ONLY = "_millrace_admin_only"
_OPEN = "_millrace_open_to_anyone"
_HYDRATES = ("hydrate", "hydrate_and_load")
_CALLER: ContextVar[Caller | None] = ContextVar("millrace_web_caller", default=None)


def admin_only(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a handler as admins' alone; `what` ("delete flows") words the refusal.

    Put it under `@rx.event`.
    """
    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        setattr(fn, _ADMIN_ONLY, what)
        return fn

    return mark


def open_to_anyone(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a handler that runs without a session (the login page's only); under `@rx.event`."""
    setattr(fn, _OPEN, True)
    return fn


def admin_task(fn: Callable[..., Any]) -> str | None:
    """What an `@admin_only` handler does ("delete flows"), or None for any other."""
    return getattr(fn, _ADMIN_ONLY, None)


def is_open(fn: Callable[..., Any]) -> bool:
    return bool(getattr(fn, _OPEN, False))


def is_framework(cls: type) -> bool:
    """Whether `cls` is one of Reflex's own states (the root, on-load and storage plumbing)."""
    return cls.__module__.split(".")[0] in ("reflex", "reflex_base")


def decide(cls: type, fn: Callable[..., Any], who: Caller | None) -> str:
    """ALLOW, LOGIN (no live session) or REFUSE (an operator at an admin-only handler)."""
    if is_framework(cls) or is_open(fn):
        return ALLOW
    if who is None:
        return LOGIN
    return REFUSE if admin_task(fn) and not who.is_admin else ALLOW


def caller() -> Caller:
    """Who the event being handled acts for, as `EventGuard` checked it."""
    who = _CALLER.get()
    if who is None:
        raise RuntimeError("this event has no checked session: is EventGuard installed, the handler not open?")
    return who


def page_states(root: type[BaseState] = State) -> Iterator[type[BaseState]]:
    """Every state class of the app under `root` (Reflex's own excluded)."""
    for sub in root.get_substates():
        if not is_framework(sub):
            yield sub
        yield from page_states(sub)


class EventGuard(Middleware):
    """Runs `decide` for each event; a denied event runs nothing and gets a redirect or a toast."""

    async def preprocess(self, app: Any, state: BaseState, event: Event) -> StateUpdate | None:
        root = state._get_root_state()
        registered = RegistrationContext.get().event_handlers.get(event.name)
        _CALLER.set(None)  # set for every event, so none inherits its parent's
        serving_a_page()  # its store calls fail soon while the database is away
        try:
            who = await off_loop(_session_caller, root.router_data)
        except DatabaseUnavailable as exc:
            return StateUpdate(events=Event.from_event_type([rx.toast.error(str(exc), id="database_unavailable")]))
        _CALLER.set(who)
        if registered is None:
            return _to_login(root.router_data)
        cls, fn = registered.states[0], registered.handler.fn
        verdict = decide(cls, fn, who)
        if verdict == LOGIN:
            return _to_login(root.router_data)
        if verdict == REFUSE:
            message = f"Only admins may {admin_task(fn)}; {who.username} is an operator."
            return StateUpdate(events=Event.from_event_type([rx.toast.error(message)]))
        if who is None and cls is State and fn.__name__ in _HYDRATES:
            await _forget_pages(root)
        return None


def _session_caller(router_data: dict[str, Any]) -> Caller | None:
    from app.services.engine_service import service

    return service.accounts.session_caller(secret_from(router_data.get("headers") or {}))


def _to_login(router_data: dict[str, Any]) -> StateUpdate:
    here = str(router_data.get("asPath") or router_data.get("pathname") or "")
    query = f"?{urlencode({'next': here})}" if here.startswith("/") and here != routes.LOGIN else ""
    return StateUpdate(events=Event.from_event_type([rx.redirect(routes.LOGIN + query)]))


async def _forget_pages(root: BaseState) -> None:
    # A browser tab's states outlive its session (a logout, an expiry): whatever they
    # still hold must not reach a client that has no session.
    for cls in page_states(type(root)):
        (await root.get_state(cls)).reset()
