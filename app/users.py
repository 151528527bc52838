"""Who is calling: the owner of the request's API token, and from which address."""

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


def address(request: Request) -> str:
    """The client's address: the peer's, or behind `trusted_proxy_hops` reverse proxies
    (Reflex's setting, REFLEX_TRUSTED_PROXY_HOPS) the one they saw in X-Forwarded-For."""
    from reflex.config import get_config

    peer = request.client.host if request.client is not None else "unknown"
    hops = get_config().trusted_proxy_hops
    forwarded = [ip.strip() for ip in request.headers.get("x-forwarded-for", "").split(",") if ip.strip()]
    return forwarded[-hops] if hops and len(forwarded) >= hops else peer
