"""The Millrace web app: pages, the REST API on the same port, the in-process workers."""

from __future__ import annotations

import reflex as rx

from app import routes, scheduling
from app.api import create_api
from app.engine_service import service
from app.states.session import SessionState


async def run_engine() -> None:
    """Lifespan task: first-start set-up, then dispatch queued runs until shutdown."""
    await service.serve()


app = rx.App(api_transformer=create_api())
app.register_lifespan_task(run_engine)
app.register_lifespan_task(scheduling.serve)
for _page in routes.pages():
    # Every page but the login page needs a session first (`SessionState.require_login`).
    _loads = [] if _page.route == routes.LOGIN else [SessionState.require_login]
    _loads += [_page.on_load] if _page.on_load is not None else []
    app.add_page(_page.component, route=_page.route, title=_page.title, on_load=_loads or None)
