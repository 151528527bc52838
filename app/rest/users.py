"""Who is calling: the owner of the request's API token, or, for a run's own token, the
user the run acts for (`app.services.run_tokens`); and from which address."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

CALLER_KEY = "millrace.caller"
"""Where `api.TokenAuth` leaves the caller it checked, in the request's ASGI scope."""


def bearer(request: Request) -> str:
    """The request's token: `Authorization: Bearer <token>`, else the `token` query parameter."""
    value = request.headers.get("authorization", "")
    if value.lower().startswith("bearer "):
        return value[7:].strip()
    return request.query_params.get("token", "")


def identify(token: str, path: str) -> Any:
    """Whom `token` acts for on a request to `path` (an `accounts.Caller`), None for no or an unknown token.

    Raises:
        run_tokens.Refused: a run token that may not be used here (the status and why).
    """
    from app.services import run_tokens
    from app.services.engine_service import service

    if run_tokens.is_run_token(token):
        return run_tokens.caller(token, workspace_of(path))
    return service.accounts.caller(token) if token else None


def caller(request: Request) -> Any:
    """Who the request acts as: what `TokenAuth` checked, else the owner of its API token.

    Requests `TokenAuth` lets through unchecked (the signed approval links) see a run's
    token as nobody: a link's signature is its proof, not the token.
    """
    from app.services import run_tokens
    from app.services.engine_service import service

    checked = request.scope.get(CALLER_KEY)
    if checked is not None:
        return checked
    token = bearer(request)
    return service.accounts.caller(token) if token and not run_tokens.is_run_token(token) else None


def workspace_of(path: str) -> str | None:
    """The workspace of an `/api/w/<workspace>/...` path, None for other paths."""
    parts = path.split("/")
    return parts[3] if path.startswith("/api/w/") and len(parts) > 3 else None


def address(request: Request) -> str:
    """The client's address: the peer's, or behind `trusted_proxy_hops` reverse proxies
    (Reflex's setting, REFLEX_TRUSTED_PROXY_HOPS) the one they saw in X-Forwarded-For."""
    from reflex.config import get_config

    peer = request.client.host if request.client is not None else "unknown"
    hops = get_config().trusted_proxy_hops
    forwarded = [ip.strip() for ip in request.headers.get("x-forwarded-for", "").split(",") if ip.strip()]
    return forwarded[-hops] if hops and len(forwarded) >= hops else peer
