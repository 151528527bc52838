"""A cap on the size of every HTTP request body the app reads: 413 beyond it.

ASGI middleware in front of every route (the REST API, the demo API, Reflex's own
endpoints): a declared `Content-Length` over the limit is answered before anything is
read; a body without one (chunked) is counted as it arrives and refused once it passes
the limit, so the app never holds more than the limit of any body.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import PlainTextResponse

from app import settings


class BodyTooLarge(Exception):
    """Raised from `receive` when a streamed body passes the limit."""


class BodyLimit:
    """Answer 413 to requests whose body is larger than `limit` bytes."""

    def __init__(self, app: Any, limit: int | None = None):
        self.app = app
        self.limit = limit if limit is not None else settings.max_body_bytes()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(scope, receive, send)
            return
        started = False
        received = 0

        async def counting_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge
            return message

        async def watching_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:  # nothing left to say: the answer is under way
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        message = f"request body too large: the limit is {self.limit} bytes (MILLRACE_MAX_BODY_BYTES)"
        await PlainTextResponse(message, 413, headers={"Connection": "close"})(scope, receive, send)


def _content_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
