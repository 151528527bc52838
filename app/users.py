"""Who is calling: the owner of the request's API token."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request


def bearer(request: Request) -> str:
    """The request's token: `Authorization: Bearer <token>`, else the `token` query parameter."""
    value = request.headers.get("authorization", "")
    if value.lower().startswith("bearer "):
        return value[7:].strip()
    return request.query_params.get("token", "")


def caller(request: Request) -> Any:
    """The request's token record (`.owner`, `.is_admin`), or None without a known token."""
    from app.engine_service import service

    token = bearer(request)
    return service.credentials.verify(token) if token else None
