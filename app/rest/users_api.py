"""REST for users, tokens, logging in and the audit log, in Windmill's shapes; and the role rule.

Operators may run, resume and read; what creates, changes or deletes flows, scripts,
schedules, resources, variables, users and tokens is for admins (`admin_only`).
"""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from app.rest import users
from app.rest.timestamps import iso
from app.services.accounts import ADMIN, OPERATOR, AccountError, Caller, LoginRefused
from app.services.offloop import DatabaseUnavailable, off_loop

_OPERATOR_CHANGES = ("jobs/run/", "jobs/run_wait_result/", "jobs/restart/", "jobs_u/resume/", "jobs_u/cancel/",
                     "jobs_u/queue/cancel/", "jobs/queue/cancel/", "jobs/flow/user_states/", "schedules/preview",
                     "job_metrics/")
"""What operators may do besides reading: run, resume, cancel, and what a run's own steps write."""
_READS = ("workspaces/exists",)
"""POSTs that only read (Windmill's shape)."""
_SECRETS = ("flows/webhook_secret/",)
"""Readable by admins only, whatever the method."""
_OPEN_TO_RUNS = ("users/whoami",)


def admin_only(method: str, path: str) -> bool:
    """Whether a request to `path` is for admins only: every change, unless it is one of
    the operators' (`_OPERATOR_CHANGES`), and the webhook secrets. Deny by default: a
    new endpoint that changes anything is for admins until it is named here."""
    if path.startswith("/api/w/"):
        rest = path.split("/", 4)[4] if path.count("/") >= 4 else ""
    elif path.startswith(("/api/users/", "/api/workspaces/")):
        rest = path[len("/api/"):]
    else:
        return False
    if rest.startswith(_SECRETS):
        return True
    return method not in ("GET", "HEAD") and not rest.startswith(_OPERATOR_CHANGES + _READS)


def closed_to_runs(path: str) -> bool:
    """Whether `path` is refused to a run's own token, whoever started the run: users and
    tokens (all but `users/whoami`), globally or in a workspace, and webhook secrets."""
    if path.startswith("/api/users/"):
        rest = path[len("/api/"):]
    elif path.startswith("/api/w/") and path.count("/") >= 4:
        rest = path.split("/", 4)[4]
    else:
        return False
    return not rest.startswith(_OPEN_TO_RUNS) and rest.startswith(("users/", "tokens/", *_SECRETS))


def _accounts() -> Any:
    from app.services.engine_service import service

    return service.accounts


def _caller(request: Request) -> Caller:
    # TokenAuth has let the request through, so its caller is known.
    return users.caller(request)


def _body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        raise AccountError(f"request body is not JSON: {exc.msg}") from None
    if not isinstance(body, dict):
        raise AccountError("the request body must be a JSON object")
    return body


def _answers(handler: Any) -> Any:
    """The endpoint of a handler (request, raw body) that reads the accounts: it runs off
    the web loop (`off_loop`); refusals are answered 400, a database away 503."""
    async def wrapped(request: Request) -> Response:
        try:
            return await off_loop(handler, request, await request.body())
        except AccountError as exc:
            return PlainTextResponse(str(exc), 400)
        except DatabaseUnavailable as exc:
            return PlainTextResponse(str(exc), 503)

    wrapped.__name__ = handler.__name__
    return wrapped


@_answers
def whoami(request: Request, raw: bytes) -> Response:
    who = _caller(request)
    return JSONResponse({"username": who.username, "email": f"{who.username}@localhost", "is_admin": who.is_admin,
                         "role": who.role, "operator": who.role == OPERATOR})


@_answers
def users_create(request: Request, raw: bytes) -> Response:
    """Body: {"username" (or "email"), "password", "role": "admin"|"operator" (or "super_admin": bool)}."""
    body = _body(raw)
    username = str(body.get("username") or body.get("email") or "")
    role = body.get("role") or (ADMIN if body.get("super_admin") or body.get("is_admin") else OPERATOR)
    _accounts().create_user(username, str(body.get("password") or ""), str(role))
    _accounts().record(_caller(request).username, "user.created", username.strip(), f"role={role}")
    return PlainTextResponse(f"user {username.strip()} created", 201)


@_answers
def users_list(request: Request, raw: bytes) -> Response:
    return JSONResponse(_accounts().list_users())


@_answers
def tokens_create(request: Request, raw: bytes) -> Response:
    """Body: {"label": ...}; answers the token itself, the only time it is shown."""
    body = _body(raw)
    who = _caller(request)
    token = _accounts().create_token(who, str(body.get("label") or ""))
    _accounts().record(who.username, "token.created", token[:10], str(body.get("label") or ""))
    return PlainTextResponse(token, 201)


@_answers
def tokens_list(request: Request, raw: bytes) -> Response:
    return JSONResponse([{**token, "created_at": iso(token["created_at"]), "last_used_at": None, "expiration": None}
                         for token in _accounts().list_tokens()])


@_answers
def tokens_delete(request: Request, raw: bytes) -> Response:
    prefix = request.path_params["token_prefix"]
    _accounts().delete_token(prefix)
    _accounts().record(_caller(request).username, "token.deleted", prefix)
    return PlainTextResponse(f"token {prefix} deleted")


@_answers
def login(request: Request, raw: bytes) -> Response:
    """Body: {"email" or "username", "password"}; answers an API token (401 wrong, 429 throttled)."""
    body = _body(raw)
    try:
        who = _accounts().login(str(body.get("username") or body.get("email") or ""),
                                str(body.get("password") or ""), users.address(request), "api")
    except LoginRefused as exc:
        if exc.wait:
            return PlainTextResponse(str(exc), 429, headers={"Retry-After": str(math.ceil(exc.wait))})
        return PlainTextResponse("invalid username or password", 401)
    return PlainTextResponse(_accounts().create_token(who, "api login"))


def audit_out(entry: dict[str, Any]) -> dict[str, Any]:
    """An audit entry in Windmill's field names (and ours)."""
    stamp = iso(entry["at"])
    return {**entry, "timestamp": stamp, "username": entry["actor"], "operation": entry["action"],
            "resource": entry["target"], "parameters": entry["detail"]}


@_answers
def audit_list(request: Request, raw: bytes) -> Response:
    """Newest first; `?operation=run.started` filters, `?per_page=` limits (default 100)."""
    limit = request.query_params.get("per_page", "100")
    if not limit.isdigit():
        raise AccountError(f"per_page must be a whole number, not {limit!r}")
    entries = _accounts().audit(limit=int(limit), action=request.query_params.get("operation"))
    return JSONResponse([audit_out(entry) for entry in entries])


def routes(w: str) -> list[Route]:
    """The routes, `w` being the workspace prefix (`/api/w/{workspace}`)."""
    return [
        Route("/api/users/whoami", whoami),
        Route(f"{w}/users/whoami", whoami),
        Route("/api/users/create", users_create, methods=["POST"]),
        Route(f"{w}/users/create", users_create, methods=["POST"]),
        Route("/api/users/list", users_list),
        Route(f"{w}/users/list", users_list),
        Route("/api/users/tokens/create", tokens_create, methods=["POST"]),
        Route("/api/users/tokens/list", tokens_list),
        Route("/api/users/tokens/delete/{token_prefix}", tokens_delete, methods=["DELETE", "POST"]),
        Route("/api/auth/login", login, methods=["POST"]),
        Route(f"{w}/audit/list", audit_list),
    ]
