"""How the REST API answers the engine's errors: the message as text, with a 4xx status
(503 while the database is away)."""

from __future__ import annotations

import functools
from typing import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from app.services import catalog
from app import settings
from app.services.offloop import DatabaseUnavailable

Handler = Callable[[Request], Awaitable[Response]]
MAX_MESSAGE_CHARS = 2000
"""An error's text is cut to this: it may quote what the request sent."""


class WebhookRefused(Exception):
    """A webhook whose signature is missing, wrong, stale or replayed: answered 401, nothing runs."""


def answers(handler: Handler) -> Handler:
    """Turn the engine's errors into 400/404 answers with the message as text, and a
    database that is away into 503."""
    from engine import BadInput, NotFound

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        if request.path_params.get("workspace", settings.WORKSPACE) != settings.WORKSPACE:
            return PlainTextResponse(f"workspace not found (this server has {settings.WORKSPACE!r})", 404)
        try:
            return await handler(request)
        except NotFound as exc:
            return _answer(exc, 404)
        except WebhookRefused as exc:
            return _answer(exc, 401)
        except (BadInput, catalog.CatalogError) as exc:
            return _answer(exc, 400)
        except DatabaseUnavailable as exc:
            return _answer(exc, 503)

    return wrapped


def _answer(exc: Exception, status: int) -> Response:
    text = str(exc)
    if len(text) > MAX_MESSAGE_CHARS:
        text = f"{text[:MAX_MESSAGE_CHARS]}… ({len(text) - MAX_MESSAGE_CHARS} more characters left out)"
    return PlainTextResponse(text, status)
