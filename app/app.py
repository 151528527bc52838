"""The Millrace web app: pages, the REST API on the same port, the in-process workers
(on a thread of their own, see app/services/engine_host.py)."""

from __future__ import annotations

import reflex as rx
from reflex.app import default_backend_exception_handler

from app import routes
from app.pages.index import PAGES
from app.rest.api import create_api
from app.services.engine_service import service
from app.services.offloop import DatabaseUnavailable
from app.states.guard import EventGuard
from app.states.session import LoginState, SessionState


async def run_engine() -> None:
    """Lifespan task: first-start set-up, then run flows and schedules until shutdown."""
    await service.serve()


def show_error(exception: Exception):
    """What a page shows when its handler failed: the database being away says so plainly."""
    if isinstance(exception, DatabaseUnavailable):
        return rx.toast.error(str(exception), id="database_unavailable")
    return default_backend_exception_handler(exception)


app = rx.App(api_transformer=create_api(), backend_exception_handler=show_error)
app.add_middleware(EventGuard())  # every event passes it: no session, no handler (see guard)
app.register_lifespan_task(run_engine)
for _page in PAGES:
    # Every page but the login page shows who is logged in (the guard sends a page
    # without a session to the login page before any of its loads run).
    _loads = [LoginState.load] if _page.route == routes.LOGIN else [SessionState.show_user]
    _loads += [_page.on_load] if _page.on_load is not None else []
    app.add_page(_page.component, route=_page.route, title=_page.title, on_load=_loads or None)
