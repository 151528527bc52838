"""The REST API in Windmill's shapes, and the demo API, on the app's port.

Everything under `/api/w/{workspace}/` needs `Authorization: Bearer <token>`, except
the signed approval links (`jobs_u/resume|cancel/...`), whose signature is the proof.
`/api/demo/` is open: it is the offline service the example flows call, and so are
`/api/session/login|logout`, the browser's way in and out (`app.rest.session_api`).
"""

from __future__ import annotations

import json
import time
from typing import Any, Awaitable, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from app.services import approval_requests, approvals, catalog, run_tokens, webhooks
from app.rest import users
from app.rest import (approvals_audit_api, demo_api, schedules_api, session_api, users_api, webhook_secret_api,
                      wmill_api, wmill_deps, wmill_jobs_api, wmill_workspaces)
from app import settings
from app.rest.body_limit import BodyLimit
from app.services.engine_service import FINISHED, service
from app.rest.http_errors import WebhookRefused
from app.rest.http_errors import answers as _errors
from app.services.offloop import DatabaseUnavailable, off_loop
from app.rest.timestamps import iso

Handler = Callable[[Request], Awaitable[Response]]
OPEN_PREFIXES = ("jobs_u/resume/", "jobs_u/cancel/")
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
"""Content types of a flow body sent as YAML (anything else is read as JSON)."""
WAIT_RESULT_TIMEOUT = 20.0
"""Seconds run_wait_result waits by default (`?timeout=` changes it) before answering 202."""


async def _json_body(request: Request, default: Any = None) -> Any:
    return _parsed(await request.body(), default)


def _parsed(raw: bytes, default: Any = None) -> Any:
    """A JSON request body (`default` when empty)."""
    if not raw.strip():
        return default
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise catalog.CatalogError(f"request body is not JSON: {exc.msg}") from None
    except UnicodeDecodeError:
        raise catalog.CatalogError("request body is not JSON: it is not UTF-8 text") from None
    except RecursionError:
        raise catalog.CatalogError("request body is nested too deeply") from None


async def _object_body(request: Request, default: Any = None) -> dict[str, Any]:
    """The request's JSON body, which must be an object."""
    return _object(await request.body(), default)


def _object(raw: bytes, default: Any = None) -> dict[str, Any]:
    body = _parsed(raw, default)
    if not isinstance(body, dict):
        raise catalog.CatalogError(f"the request body must be a JSON object, not {type(body).__name__}")
    return body


def _flow_body(request: Request, raw: bytes) -> dict[str, Any]:
    """A flow save's body: JSON, or YAML when its Content-Type says so (read by the
    engine's loader, which bounds what aliases may expand to)."""
    from engine import dump_flow, parse_flow

    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in YAML_TYPES:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise catalog.CatalogError("request body is not UTF-8 text") from None
        return dump_flow(parse_flow(text, source="request body", syntax="yaml"))
    return _object(raw, {})


def _flow_out(row: Any, with_value: bool = True) -> dict[str, Any]:
    document = dict(row.document or {})
    out = {"path": row.path, "summary": document.get("summary") or "", "description": document.get("description") or "",
           "schema": document.get("schema"), "edited_by": row.created_by or "admin", "edited_at": iso(row.created_at),
           "version": row.version, "workspace_id": row.workspace, "archived": False,
           "dedicated_worker": document.get("dedicated_worker") is True}
    if with_value:
        out["value"] = document.get("value")
    return out


def _script_out(row: Any) -> dict[str, Any]:
    return {"path": row.path, "hash": f"{row.version:016x}", "language": row.language, "content": row.content,
            "schema": row.args_schema, "summary": row.summary, "description": "", "created_at": iso(row.created_at),
            "workspace_id": row.workspace, "kind": "script", "archived": False, "lock": row.lock,
            "dedicated_worker": bool(row.dedicated_worker)}


async def _audit(request: Request, action: str, target: str, detail: str = "") -> None:
    await off_loop(_record, request, action, target, detail)


def _record(request: Request, action: str, target: str, detail: str = "") -> None:
    service.accounts.record(_actor(users.caller(request)), action, target, detail)


def _actor(who: Any) -> str:
    if who is None:
        return "anonymous"
    return f"{who.username or 'nobody'} (run {who.run_id})" if who.run_id else who.username


@_errors
async def flows_list(request: Request) -> Response:
    rows = await off_loop(service.store.list_flows, request.query_params.get("path_start") or None,
                          workspace=settings.WORKSPACE)
    return JSONResponse([_flow_out(row, with_value=False) for row in rows])


@_errors
async def flows_get(request: Request) -> Response:
    path = request.path_params["path"]
    row = await off_loop(service.store.get_flow, path, workspace=settings.WORKSPACE)
    if row is None:
        return PlainTextResponse(f"flow {path!r} not found", 404)
    return JSONResponse(_flow_out(row))


@_errors
async def flows_exists(request: Request) -> Response:
    row = await off_loop(service.store.get_flow, request.path_params["path"], workspace=settings.WORKSPACE)
    return JSONResponse(row is not None)


@_errors
async def flows_save(request: Request) -> Response:
    return await off_loop(_save_flow, request, await request.body())


def _save_flow(request: Request, raw: bytes) -> Response:
    body = _flow_body(request, raw)
    path = catalog.check_path(request.path_params.get("path") or body.get("path", ""), "flow")
    creating = "path" not in request.path_params
    if creating and service.store.get_flow(path, workspace=settings.WORKSPACE) is not None:
        return PlainTextResponse(f"a flow exists already at {path}", 400)
    document = {key: body[key] for key in ("summary", "description", "value", "schema", "dedicated_worker")
                if key in body}
    catalog.save_flow(service.store, body.get("path") or path, document, created_by="api")
    _record(request, "flow.saved", body.get("path") or path)
    return PlainTextResponse(body.get("path") or path, 201 if creating else 200)


@_errors
async def flows_delete(request: Request) -> Response:
    """Delete a flow. One already gone answers 200 too, as Windmill does: `wmill sync
    push` asks once per deleted file of a flow's folder."""
    from engine import NotFound

    path = request.path_params["path"]
    try:
        await off_loop(service.store.delete_flow, path, workspace=settings.WORKSPACE)
    except NotFound:
        return PlainTextResponse(f"flow {path} does not exist: nothing deleted")
    await _audit(request, "flow.deleted", path)
    return PlainTextResponse(f"flow {path} deleted")


@_errors
async def scripts_list(request: Request) -> Response:
    rows = await off_loop(service.store.list_scripts, request.query_params.get("path_start") or None,
                          workspace=settings.WORKSPACE)
    return JSONResponse([_script_out(row) for row in rows])


@_errors
async def scripts_get(request: Request) -> Response:
    path = request.path_params["path"]
    row = await off_loop(service.store.get_script, path, workspace=settings.WORKSPACE)
    if row is None:
        return PlainTextResponse(f"script {path!r} not found", 404)
    return JSONResponse(_script_out(row))


@_errors
async def scripts_create(request: Request) -> Response:
    body = await _object_body(request, {})
    noop = request.query_params.get("skip_if_noop") == "true"
    version = await off_loop(_save_script, body, noop)
    return PlainTextResponse(f"{version:016x}", 201)


def _save_script(body: dict[str, Any], skip_if_noop: bool) -> int:
    """Save a script version; with `skip_if_noop`, an identical one is not saved again
    (the latest version's number is returned, as `wmill sync push` asks)."""
    lock = body.get("lock") if isinstance(body.get("lock"), str) else None  # a *.script.lock from `wmill sync`
    path, language = body.get("path", ""), body.get("language", "python3")
    content, summary = body.get("content", ""), body.get("summary", "")
    dedicated = body.get("dedicated_worker") is True  # absent: a new version is not dedicated, as in Windmill
    latest = service.store.get_script(path, workspace=settings.WORKSPACE) if skip_if_noop else None
    if latest is not None and (latest.language, latest.content, latest.summary, latest.dedicated_worker) == \
            (language, content, summary, dedicated) and lock in (None, latest.lock):
        return latest.version
    return catalog.save_script(service.store, path, language, content, summary, lock=lock, dedicated_worker=dedicated)


@_errors
async def scripts_delete(request: Request) -> Response:
    """Windmill archives or deletes a script; Millrace deletes it (every version) either way."""
    await off_loop(service.store.delete_script, request.path_params["path"], workspace=settings.WORKSPACE)
    await _audit(request, "script.deleted", request.path_params["path"])
    return PlainTextResponse(f"script {request.path_params['path']} deleted")


def _start(request: Request, kind: str, args: dict[str, Any]) -> str:
    """Start a run of the flow (f) or script (p) at the request's path: a webhook."""
    from engine import NotFound

    path, who = request.path_params["path"], users.caller(request)
    if kind == "f":
        document = catalog.load_document(service.store, path)
        return service.submit_flow(document, args, path=path, trigger="webhook", started_by=who)
    if kind != "p":
        raise NotFound(f"unknown job kind {kind!r}: use f/ (flow) or p/ (script)")

    row = service.store.get_script(path, workspace=settings.WORKSPACE)
    if row is None:
        raise NotFound(f"script {path!r} not found")
    return service.submit_script(path, row.language, row.content, row.args_schema, args, trigger="api",
                                 started_by=who, lock=row.lock, dedicated=row.dedicated_worker)


def _start_audited(request: Request, args: dict[str, Any]) -> str:
    run_id = _start(request, request.path_params["kind"], args)
    _record(request, "run.started", request.path_params["path"], run_id)
    return run_id


async def _args(request: Request) -> dict[str, Any]:
    if request.path_params["kind"] == "f":
        refused = await off_loop(webhooks.refusal, service.credentials, request.path_params["path"],
                                 request.headers, await request.body(), time.time())
        if refused:
            raise WebhookRefused(refused)
    args = await _json_body(request, {})
    if not isinstance(args, dict):
        raise catalog.CatalogError("the request body must be a JSON object of args")
    return args


@_errors
async def jobs_run(request: Request) -> Response:
    run_id = await off_loop(_start_audited, request, await _args(request))
    return PlainTextResponse(run_id, 201)


def _timeout(request: Request) -> float:
    raw = request.query_params.get("timeout")
    try:
        timeout = float(raw) if raw is not None else WAIT_RESULT_TIMEOUT
    except ValueError:
        raise catalog.CatalogError(f"timeout must be a number of seconds, not {raw[:40]!r}") from None
    if timeout < 0:
        raise catalog.CatalogError("timeout must not be negative")
    return timeout


@_errors
async def jobs_run_wait_result(request: Request) -> Response:
    timeout = _timeout(request)
    run_id = await off_loop(_start_audited, request, await _args(request))
    run = await service.wait_finished(run_id, timeout)
    if run.status not in FINISHED:
        return JSONResponse({"error": f"run {run_id} is {run.status}", "run_id": run_id, "status": run.status}, 202)
    return JSONResponse(run.result, 200 if run.status == "success" else 500)


@_errors
async def jobs_get_result(request: Request) -> Response:
    run = await off_loop(_run, request)
    if run.status not in FINISHED:
        return PlainTextResponse(f"run {run.id} has not finished (status: {run.status})", 404)
    return JSONResponse(run.result)


@_errors
async def jobs_get_result_maybe(request: Request) -> Response:
    dependencies = wmill_deps.finished(request.path_params["run_id"])
    if dependencies is not None:
        return JSONResponse(dependencies)
    run = await off_loop(_run, request)
    done = run.status in FINISHED
    return JSONResponse({"completed": done, "result": run.result if done else None,
                         "success": run.status == "success", "started": run.started_at is not None})


def _run(request: Request) -> Any:
    from engine import NotFound

    # A step's WM_JOB_ID is "<run id>:<step key>"; the run is what counts here.
    run = service.store.get_run(request.path_params["run_id"].split(":", 1)[0])
    if run is None:
        raise NotFound(f"run {request.path_params['run_id']!r} not found")
    return run


@_errors
async def resume_urls(request: Request) -> Response:
    """Links for `?approver=` (see `approvals.link_refusal` for who may ask for whom)."""
    return await off_loop(_resume_urls, request)


def _resume_urls(request: Request) -> Response:
    run, who, resume_id = _run(request), users.caller(request), request.path_params["resume_id"]
    asked = request.query_params.get("approver", "")
    refused = approvals.link_refusal(who, run, asked)
    if refused:
        return PlainTextResponse(refused, 403)
    approver = approvals.link_approver(who, asked)
    if approver and approver != who.username:
        approval_requests.record(service.credentials, run.id, resume_id, approver, _actor(who))
    return JSONResponse(approvals.links(run.id, resume_id, approver))


def _decide(approve: bool) -> Handler:
    @_errors
    async def decide(request: Request) -> Response:
        return await off_loop(_decided, request, approve, await request.body())

    return decide


def _decided(request: Request, approve: bool, body: bytes) -> Response:
    """A signed link's decision: checked (signature, then who may decide), then recorded."""
    run = _run(request)
    resume_id, signature = request.path_params["resume_id"], request.path_params["signature"]
    named = request.query_params.get("approver", "")
    if not approvals.check(run.id, resume_id, named, signature):
        made_for = f"approver {named!r}" if named else "no named approver (did you drop ?approver=...?)"
        return PlainTextResponse(f"invalid signature: this link was not made for {made_for}", 401)
    who = users.caller(request)
    approver = who.username if who is not None else (named or approvals.LINK_APPROVER)
    waiting = approvals.waiting_step(service.store, run)
    options = waiting[2] if waiting else {}
    refused = approvals.refusal(run, options, approver=approver, via_link=who is None, approve=approve)
    if refused:
        return PlainTextResponse(refused, 403)
    query = {k: v for k, v in request.query_params.items() if k not in ("approver", "comment", "token")}
    payload = _parsed(body, {}) if request.method == "POST" else query
    verdict = service.decide(run.id, approve=approve, approver=approver, payload=payload, resume_id=resume_id,
                             comment=request.query_params.get("comment"))
    return JSONResponse({"run_id": run.id, "verdict": verdict, "approver": approver})


async def version(request: Request) -> Response:
    return PlainTextResponse("millrace")


async def ready(request: Request) -> Response:
    """200 once the tokens and examples are set up and runs are dispatched, else 503."""
    return PlainTextResponse("ready", 200) if service.ready else PlainTextResponse("starting", 503)


class TokenAuth:
    """Refuse `/api/w/...` and `/api/users/...` requests without a known token (401), and
    changes an operator's token may not make (403, see `users_api.admin_only`)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and _needs_token(scope["path"]):
            try:
                refused = await off_loop(_refusal, scope)
            except DatabaseUnavailable as exc:
                refused = PlainTextResponse(str(exc), 503)
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _needs_token(path: str) -> bool:
    if path.startswith(("/api/users/", "/api/workspaces/")):
        return True
    if not path.startswith("/api/w/"):
        return False
    rest = path.split("/", 4)[-1] if path.count("/") >= 4 else ""
    return not rest.startswith(OPEN_PREFIXES)


def _refusal(scope: dict[str, Any]) -> Response | None:
    path = scope["path"]
    try:
        who = users.identify(_token(scope), path)
    except run_tokens.Refused as refused:
        return PlainTextResponse(refused.message, refused.status)
    if who is None:
        return PlainTextResponse("missing or unknown token (Authorization: Bearer <token>)", 401)
    scope[users.CALLER_KEY] = who
    if who.run_id and users_api.closed_to_runs(path):
        return PlainTextResponse("a run's token may not create users or tokens nor read webhook secrets", 403)
    if users_api.admin_only(scope.get("method", "GET"), path) and not who.is_admin:
        if who.run_id:
            name = who.username or "nobody known"
            return PlainTextResponse(f"this run's token acts for {name}, who is not an admin: "
                                     "only admins may do this", 403)
        return PlainTextResponse(f"{who.username} is an operator: only admins may do this", 403)
    return None


def _token(scope: dict[str, Any]) -> str:
    headers = dict(scope.get("headers") or [])
    value = headers.get(b"authorization", b"").decode()
    token = value[7:].strip() if value.lower().startswith("bearer ") else ""
    if not token:
        query = dict(pair.split("=", 1) for pair in scope.get("query_string", b"").decode().split("&") if "=" in pair)
        token = query.get("token", "")
    return token or _cookie_token(headers.get(b"cookie", b"").decode())


def _cookie_token(cookie: str) -> str:
    """The `token` cookie Windmill's CLI sends on some calls (`Cookie: token=<api token>`):
    an API token like any other. The app never sets such a cookie itself (its browser
    session is `millrace_session`, checked by the pages, not here)."""
    for part in cookie.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "token" and value:
            return value
    return ""


W = "/api/w/{workspace}"
routes = [
    Route("/api/version", version),
    Route("/api/ready", ready),
    *users_api.routes(W),
    *session_api.ROUTES,
    Route(f"{W}/flows/list", flows_list),
    Route(f"{W}/flows/get/{{path:path}}", flows_get),
    Route(f"{W}/flows/exists/{{path:path}}", flows_exists),
    Route(f"{W}/flows/create", flows_save, methods=["POST"]),
    Route(f"{W}/flows/update/{{path:path}}", flows_save, methods=["POST"]),
    Route(f"{W}/flows/delete/{{path:path}}", flows_delete, methods=["DELETE", "POST"]),
    Route(f"{W}/scripts/list", scripts_list),
    Route(f"{W}/scripts/get/p/{{path:path}}", scripts_get),
    Route(f"{W}/scripts/create", scripts_create, methods=["POST"]),
    Route(f"{W}/scripts/archive/p/{{path:path}}", scripts_delete, methods=["POST"]),
    Route(f"{W}/scripts/delete/p/{{path:path}}", scripts_delete, methods=["DELETE", "POST"]),
    Route(f"{W}/jobs/run/{{kind:str}}/{{path:path}}", jobs_run, methods=["POST"]),
    Route(f"{W}/jobs/run_wait_result/{{kind:str}}/{{path:path}}", jobs_run_wait_result, methods=["POST"]),
    Route(f"{W}/jobs_u/completed/get_result/{{run_id}}", jobs_get_result),
    Route(f"{W}/jobs_u/completed/get_result_maybe/{{run_id}}", jobs_get_result_maybe),
    Route(f"{W}/flows/webhook_secret/{{path:path}}", _errors(webhook_secret_api.secret_endpoint), methods=["GET", "POST"]),
    Route(f"{W}/jobs_u/approvals/{{run_id}}", _errors(approvals_audit_api.audit_endpoint)),
    Route(f"{W}/jobs/resume_urls/{{run_id}}/{{resume_id}}", resume_urls),
    Route(f"{W}/jobs_u/resume/{{run_id}}/{{resume_id}}/{{signature}}", _decide(True), methods=["GET", "POST"]),
    Route(f"{W}/jobs_u/cancel/{{run_id}}/{{resume_id}}/{{signature}}", _decide(False), methods=["GET", "POST"]),
    Mount("/api/demo", routes=demo_api.routes),
]
routes += schedules_api.routes(W, _errors, _object_body)
routes.extend(wmill_api.routes)
routes.extend(wmill_workspaces.routes)
routes.extend(wmill_jobs_api.routes)
routes.extend(wmill_deps.routes)


async def unknown_api(request: Request) -> Response:
    """Any other `/api/...` path: a JSON 404, never the web app's HTML page."""
    return JSONResponse({"error": f"no such API endpoint: {request.method} {request.url.path}"}, 404)


ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_api() -> Starlette:
    """The Starlette app Reflex mounts itself under (its routes match first); its
    middleware sees every HTTP request, Reflex's own included."""
    catch_all = Route("/api/{rest:path}", unknown_api, methods=ALL_METHODS)
    return Starlette(routes=[*routes, catch_all], middleware=[Middleware(BodyLimit), Middleware(TokenAuth)])
