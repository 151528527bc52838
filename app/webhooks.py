"""Webhook secrets: a flow may require its webhook bodies to be signed.

The secret is kept per flow path (in the app's settings table, beside the approval-link
secret). When a flow has one, a request that starts it must carry
`X-Millrace-Signature: sha256=<hex of HMAC-SHA256(secret, raw body)>`, as GitHub's
`X-Hub-Signature-256` does; a missing or wrong signature is refused and nothing runs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from app.models import AppSetting

SIGNATURE_HEADER = "X-Millrace-Signature"
_PREFIX = "webhook_secret:"


def _key(path: str) -> str:
    return _PREFIX + path


def get_secret(credentials: Any, path: str) -> str | None:
    """The flow's webhook secret, or None when its webhooks need no signature."""
    with Session(credentials.engine) as session:
        row = session.get(AppSetting, _key(path))
        return row.value if row is not None and row.value else None


def set_secret(credentials: Any, path: str, secret: str | None) -> None:
    """Set (or, with None or "", remove) the flow's webhook secret."""
    with Session(credentials.engine) as session:
        row = session.get(AppSetting, _key(path))
        if secret:
            if row is None:
                session.add(AppSetting(key=_key(path), value=secret))
            else:
                row.value = secret
                session.add(row)
        elif row is not None:
            session.delete(row)
        session.commit()


def signature(secret: str, body: bytes) -> str:
    """The header value a sender puts on `body`: `sha256=<hex>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def refusal(credentials: Any, path: str, headers: Any, body: bytes) -> str | None:
    """Why a webhook for `path` is refused (a message), or None when it may run."""
    secret = get_secret(credentials, path)
    if secret is None:
        return None
    given = headers.get(SIGNATURE_HEADER) or ""
    if not given:
        return f"flow {path} requires a signed body: missing {SIGNATURE_HEADER} header (sha256=<hex HMAC>)"
    if not hmac.compare_digest(given.strip(), signature(secret, body)):
        return f"the {SIGNATURE_HEADER} signature does not match the body (HMAC-SHA256 with the flow's secret)"
    return None


async def secret_endpoint(request: Request) -> Response:
    """GET: whether the flow has a secret. POST {"secret": "..."} sets it; null or "" removes it."""
    from app import settings
    from app.engine_service import service

    path = request.path_params["path"]
    if service.store.get_flow(path, workspace=settings.WORKSPACE) is None:
        return PlainTextResponse(f"flow {path!r} not found", 404)
    if request.method == "POST":
        try:
            body = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError as exc:
            return PlainTextResponse(f"request body is not JSON: {exc.msg}", 400)
        secret = body.get("secret") if isinstance(body, dict) else None
        if secret is not None and not isinstance(secret, str):
            return PlainTextResponse("secret must be a string (or null to remove it)", 400)
        set_secret(service.credentials, path, secret)
    return JSONResponse({"path": path, "has_secret": get_secret(service.credentials, path) is not None})
