"""REST for variables, resources and resource types, in Windmill's shapes, and what the
`wmill` client calls from inside a running step (root job id, flow user state).

Scripts get a run-scoped token (`WM_TOKEN`, see `app.services.run_tokens`). Only such a token
reads secret values in clear (`variables/get_value`, `resources/get_value_interpolated`):
people and admin tokens see that a variable is secret, never its value after it was saved.
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from app import settings
from app.rest import users
from app.services.engine_service import service
from app.rest.http_errors import answers
from app.services.offloop import off_loop
from app.rest.timestamps import iso

Handler = Callable[[Request], Awaitable[Response]]
Blocking = Callable[[Request, bytes], Response]


def blocking_endpoint(handler: Blocking) -> Handler:
    """The endpoint of a handler that reads the store: its body is read on the web loop,
    the handler runs off it (`off_loop`), and errors are answered as the REST API does."""
    async def endpoint(request: Request) -> Response:
        return await off_loop(handler, request, await request.body())

    endpoint.__name__ = handler.__name__
    return answers(endpoint)


def _is_runtime(request: Request) -> bool:
    who = users.caller(request)
    return who is not None and who.run_id is not None


def _vault() -> Any:
    from engine import Vault

    return Vault.of(service.store)


def _body(raw: bytes) -> Any:
    from engine import BadInput

    try:
        return json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        raise BadInput(f"request body is not JSON: {exc.msg}") from None


def object_body(raw: bytes) -> dict[str, Any]:
    from engine import BadInput

    body = _body(raw)
    if not isinstance(body, dict):
        raise BadInput("the request body must be a JSON object")
    return body


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    """A variable or resource with its times in ISO 8601, as Windmill serves them."""
    return {**item, **{key: iso(item[key]) for key in ("created_at", "updated_at") if key in item}}


def _path(request: Request) -> str:
    return request.path_params["path"]


W = settings.WORKSPACE


# Variables

@blocking_endpoint
def variables_create(request: Request, raw: bytes) -> Response:
    from engine import BadInput

    body = object_body(raw)
    path = body.get("path", "")
    if service.store.get_variable_row(path, workspace=W) is not None:
        raise BadInput(f"variable {path} exists already; update it with variables/update/{path}")
    if not _set_sealed(request, path, body):
        _vault().set_variable(path, str(body.get("value") or ""), is_secret=bool(body.get("is_secret")),
                              description=body.get("description") or "", workspace=W)
    return PlainTextResponse(path, 201)


def _set_sealed(request: Request, path: str, body: dict[str, Any]) -> bool:
    """Save a secret sent as its ciphertext (`?already_encrypted=true`, what `wmill sync
    push` sends back of a pull); False when the request is not one."""
    from engine import BadInput

    row = service.store.get_variable_row(path, workspace=W)
    secret = body.get("is_secret") if body.get("is_secret") is not None else bool(row and row.is_secret)
    if request.query_params.get("already_encrypted") != "true" or not secret or body.get("value") is None:
        return False
    try:
        _vault().set_sealed_variable(path, str(body["value"]), description=body.get("description"), workspace=W)
    except BadInput:
        raise BadInput(f"variable {path}: its value is not a secret this server encrypted; push the value "
                       "in clear instead (wmill sync push --plain-secrets)") from None
    return True


@blocking_endpoint
def variables_get(request: Request, raw: bytes) -> Response:
    """A variable; with `?include_encrypted=true`, a secret's value is its ciphertext."""
    out = _shown(_vault().variable(_path(request), workspace=W))
    if out["is_secret"] and request.query_params.get("include_encrypted") == "true":
        out["value"] = _vault().sealed_value(_path(request), workspace=W)
    return JSONResponse(out)


@blocking_endpoint
def variables_get_value(request: Request, raw: bytes) -> Response:
    vault, path = _vault(), _path(request)
    if vault.variable(path, workspace=W)["is_secret"] and not _is_runtime(request):
        return PlainTextResponse(f"variable {path} is secret: only running scripts can read its value", 403)
    return JSONResponse(vault.variable_value(path, workspace=W))


@blocking_endpoint
def variables_exists(request: Request, raw: bytes) -> Response:
    return JSONResponse(service.store.get_variable_row(_path(request), workspace=W) is not None)


@blocking_endpoint
def variables_list(request: Request, raw: bytes) -> Response:
    listed = _vault().list_variables(workspace=W, path_start=request.query_params.get("path_start"))
    return JSONResponse([_shown(item) for item in listed])


@blocking_endpoint
def variables_update(request: Request, raw: bytes) -> Response:
    body, path, vault = object_body(raw), _path(request), _vault()
    value = body.get("value")
    vault.variable(path, workspace=W)  # NotFound before anything changes
    new_path = body.get("path") or path
    if new_path != path:
        old = service.store.get_variable_row(path, workspace=W)
        vault.set_variable(new_path, vault.variable_value(path, workspace=W) if value is None else value,
                           is_secret=old.is_secret, description=old.description, workspace=W)
        vault.delete_variable(path, workspace=W)
        path, value = new_path, None
    if not _set_sealed(request, path, body):
        vault.set_variable(path, None if value is None else str(value), is_secret=body.get("is_secret"),
                           description=body.get("description"), workspace=W)
    return PlainTextResponse(path)


@blocking_endpoint
def variables_delete(request: Request, raw: bytes) -> Response:
    _vault().delete_variable(_path(request), workspace=W)
    return PlainTextResponse(f"variable {_path(request)} deleted")


# Resources

@blocking_endpoint
def resources_create(request: Request, raw: bytes) -> Response:
    from engine import BadInput

    body = object_body(raw)
    path = body.get("path", "")
    if service.store.get_resource_row(path, workspace=W) is not None and request.query_params.get(
            "update_if_exists") != "true":
        raise BadInput(f"resource {path} exists already; update it with resources/update/{path}")
    _vault().set_resource(path, body.get("value"), body.get("resource_type"),
                          description=body.get("description") or "", workspace=W)
    return PlainTextResponse(path, 201)


@blocking_endpoint
def resources_get(request: Request, raw: bytes) -> Response:
    return JSONResponse(_shown(_vault().resource(_path(request), workspace=W)))


@blocking_endpoint
def resources_get_value(request: Request, raw: bytes) -> Response:
    return JSONResponse(_vault().resource(_path(request), workspace=W)["value"])


@blocking_endpoint
def resources_get_value_interpolated(request: Request, raw: bytes) -> Response:
    return JSONResponse(_vault().resource_value(_path(request), workspace=W, reveal=_is_runtime(request)))


@blocking_endpoint
def resources_exists(request: Request, raw: bytes) -> Response:
    return JSONResponse(service.store.get_resource_row(_path(request), workspace=W) is not None)


@blocking_endpoint
def resources_list(request: Request, raw: bytes) -> Response:
    params = request.query_params
    listed = _vault().list_resources(workspace=W, resource_type=params.get("resource_type") or None,
                                     path_start=params.get("path_start") or None)
    return JSONResponse([_shown(item) for item in listed])


@blocking_endpoint
def resources_update(request: Request, raw: bytes) -> Response:
    body, path, vault = object_body(raw), _path(request), _vault()
    current = vault.resource(path, workspace=W)
    new_path = body.get("path") or path
    value = body["value"] if "value" in body else current["value"]
    vault.set_resource(new_path, value, body.get("resource_type") or current["resource_type"],
                       description=body.get("description", current["description"]), workspace=W)
    if new_path != path:
        vault.delete_resource(path, workspace=W)
    return PlainTextResponse(new_path)


@blocking_endpoint
def resources_delete(request: Request, raw: bytes) -> Response:
    _vault().delete_resource(_path(request), workspace=W)
    return PlainTextResponse(f"resource {_path(request)} deleted")


@blocking_endpoint
def resource_types_list(request: Request, raw: bytes) -> Response:
    return JSONResponse(_vault().resource_types(workspace=W))


@blocking_endpoint
def resource_types_create(request: Request, raw: bytes) -> Response:
    body = object_body(raw)
    _vault().create_resource_type(body.get("name", ""), body.get("schema"), body.get("description") or "",
                                  workspace=W)
    return PlainTextResponse(body.get("name", ""), 201)


def _resource_type(name: str) -> dict[str, Any]:
    from engine import NotFound

    for item in _vault().resource_types(workspace=W):
        if item["name"] == name:
            return item
    raise NotFound(f"resource type {name!r} not found")


@blocking_endpoint
def resource_types_get(request: Request, raw: bytes) -> Response:
    return JSONResponse(_resource_type(_path(request)))


@blocking_endpoint
def resource_types_exists(request: Request, raw: bytes) -> Response:
    return JSONResponse(any(item["name"] == _path(request) for item in _vault().resource_types(workspace=W)))


@blocking_endpoint
def resource_types_update(request: Request, raw: bytes) -> Response:
    body, current = object_body(raw), _resource_type(_path(request))
    _vault().create_resource_type(current["name"], body.get("schema", current["schema"]),
                                  body.get("description", current["description"]) or "", workspace=W)
    return PlainTextResponse(current["name"])


@blocking_endpoint
def resource_types_delete(request: Request, raw: bytes) -> Response:
    service.store.delete_resource_type(_path(request), workspace=W)
    return PlainTextResponse(f"resource type {_path(request)} deleted")


# What a running step's wmill client calls

def _root_run(job_id: str) -> Any:
    from engine import NotFound

    run = service.store.get_run(job_id.split(":", 1)[0])
    if run is None:
        raise NotFound(f"job {job_id!r} not found")
    return run


@blocking_endpoint
def root_job_id(request: Request, raw: bytes) -> Response:
    run = _root_run(request.path_params["job_id"])
    return JSONResponse(run.root_run_id or run.id)


@blocking_endpoint
def flow_user_state(request: Request, raw: bytes) -> Response:
    run, key = _root_run(request.path_params["job_id"]), request.path_params["key"]
    if request.method == "POST":
        service.store.set_user_state(run.id, key, _body(raw))
        return PlainTextResponse("ok")
    return JSONResponse(service.store.get_user_state(run.id, key))


PROGRESS = "progress:"
"""Where a job's progress is kept: a key of its run's user state (`PROGRESS` + job id)."""


@blocking_endpoint
def progress(request: Request, raw: bytes) -> Response:
    """`job_metrics/set_progress|get_progress/<job id>` (what wmill.set_progress calls): a
    whole percentage, 0 to 100, per job (a run, or one step of a flow run)."""
    from engine import BadInput

    job_id = request.path_params["job_id"]
    run = _root_run(job_id)
    # A script run's one step is the run itself: its WM_JOB_ID and its run id are the same job.
    key = PROGRESS + (job_id if run.kind == "flow" else run.id)
    if request.method == "GET":
        return JSONResponse(service.store.get_user_state(run.id, key))
    percent = object_body(raw).get("percent")
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise BadInput(f"percent must be a whole number from 0 to 100, not {str(percent)[:40]}")
    service.store.set_user_state(run.id, key, percent)
    return PlainTextResponse("progress set")


P = "{path:path}"
routes = [
    Route(f"/api/w/{{workspace}}/{rest}", handler, methods=methods)
    for rest, handler, methods in [
        ("variables/create", variables_create, ["POST"]),
        (f"variables/get/{P}", variables_get, ["GET"]),
        (f"variables/get_value/{P}", variables_get_value, ["GET"]),
        (f"variables/exists/{P}", variables_exists, ["GET"]),
        ("variables/list", variables_list, ["GET"]),
        (f"variables/update/{P}", variables_update, ["POST"]),
        (f"variables/delete/{P}", variables_delete, ["DELETE", "POST"]),
        ("resources/create", resources_create, ["POST"]),
        (f"resources/get/{P}", resources_get, ["GET"]),
        (f"resources/get_value/{P}", resources_get_value, ["GET"]),
        (f"resources/get_value_interpolated/{P}", resources_get_value_interpolated, ["GET"]),
        (f"resources/exists/{P}", resources_exists, ["GET"]),
        ("resources/list", resources_list, ["GET"]),
        (f"resources/update/{P}", resources_update, ["POST"]),
        (f"resources/update_value/{P}", resources_update, ["POST"]),
        (f"resources/delete/{P}", resources_delete, ["DELETE", "POST"]),
        ("resources/type/list", resource_types_list, ["GET"]),
        ("resources/type/create", resource_types_create, ["POST"]),
        (f"resources/type/get/{P}", resource_types_get, ["GET"]),
        (f"resources/type/exists/{P}", resource_types_exists, ["GET"]),
        (f"resources/type/update/{P}", resource_types_update, ["POST"]),
        (f"resources/type/delete/{P}", resource_types_delete, ["DELETE", "POST"]),
        ("jobs_u/get_root_job_id/{job_id}", root_job_id, ["GET"]),
        ("jobs/flow/user_states/{job_id}/{key}", flow_user_state, ["GET", "POST"]),
        ("job_metrics/set_progress/{job_id}", progress, ["POST"]),
        ("job_metrics/get_progress/{job_id}", progress, ["GET"]),
    ]
]
"""Mounted by `app.rest.api` beside its own routes."""
