"""REST for a flow's webhook secret: `flows/webhook_secret/{path}`. GET tells whether the flow
has one; POST {"secret": "..."} sets it, null or "" removes it (`app.services.webhooks`)."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from app import settings
from app.services.engine_service import service
from app.services.offloop import off_loop
from app.services.webhooks import get_secret, set_secret


async def secret_endpoint(request: Request) -> Response:
    """GET: whether the flow has a secret. POST {"secret": "..."} sets it; null or "" removes it."""
    return await off_loop(_secret, request, await request.body())


def _secret(request: Request, raw: bytes) -> Response:
    path = request.path_params["path"]
    if service.store.get_flow(path, workspace=settings.WORKSPACE) is None:
        return PlainTextResponse(f"flow {path!r} not found", 404)
    if request.method == "POST":
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError as exc:
            return PlainTextResponse(f"request body is not JSON: {exc.msg}", 400)
        secret = body.get("secret") if isinstance(body, dict) else None
        if secret is not None and not isinstance(secret, str):
            return PlainTextResponse("secret must be a string (or null to remove it)", 400)
        set_secret(service.credentials, path, secret)
    return JSONResponse({"path": path, "has_secret": get_secret(service.credentials, path) is not None})
