"""REST for the workspace itself and its folders, in Windmill's shapes: what `wmill
workspace add` checks, what `wmill sync pull` downloads (`workspaces/tarball`), and the
`folders/*` endpoints `wmill folder` and `wmill sync push` call.

This server has one workspace (`settings.WORKSPACE`); asking for another answers 404.
"""

from __future__ import annotations

import io
import zipfile

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from app.services import folders
from app import settings
from app.rest import wmill_export
from app.services.engine_service import service
from app.rest.wmill_api import blocking_endpoint, object_body

TRUE = "true"
SKIPS = {"skip_variables": "variables", "skip_secrets": "secrets", "skip_resources": "resources",
         "skip_resource_types": "resource_types"}


def _workspace() -> dict[str, object]:
    ws = settings.WORKSPACE
    return {"id": ws, "name": ws, "owner": "admin", "domain": None, "color": None, "parent_workspace_id": None}


@blocking_endpoint
def workspaces_exists(request: Request, raw: bytes) -> Response:
    return JSONResponse(object_body(raw).get("id") == settings.WORKSPACE)


@blocking_endpoint
def workspaces_list(request: Request, raw: bytes) -> Response:
    return JSONResponse([_workspace()])


@blocking_endpoint
def tarball(request: Request, raw: bytes) -> Response:
    """The workspace as a zip of files (`archive_type=zip`, the only kind served)."""
    params = request.query_params
    kind = params.get("archive_type", "zip")
    if kind != "zip":
        return PlainTextResponse(f"Invalid Archive Type {kind[:20]}: this server sends zip archives only", 400)
    skip = {kind for flag, kind in SKIPS.items() if params.get(flag) == TRUE}
    if TRUE in (params.get("plain_secret"), params.get("plain_secrets")) and not skip & {"variables", "secrets"}:
        return PlainTextResponse("secret values are never exported in clear: pull without --plain-secrets "
                                 "(secrets come encrypted) or with --skip-secrets", 403)
    files = wmill_export.export(service.store, service.credentials, skip=skip,
                                schedules=params.get("include_schedules") == TRUE)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in sorted(files.items()):
            archive.writestr(name, text)
    headers = {"Content-Disposition": f'attachment; filename="windmill-{settings.WORKSPACE}.zip"'}
    return Response(buffer.getvalue(), media_type="application/zip", headers=headers)


# Folders

def _name(request: Request) -> str:
    return request.path_params["name"]


def _folder_out(name: str, document: dict[str, object]) -> dict[str, object]:
    return {"name": name, "workspace_id": settings.WORKSPACE, **document}


@blocking_endpoint
def folders_list(request: Request, raw: bytes) -> Response:
    every = folders.every(service.store, service.credentials)
    return JSONResponse([_folder_out(name, document) for name, document in every.items()])


@blocking_endpoint
def folders_listnames(request: Request, raw: bytes) -> Response:
    return JSONResponse(list(folders.every(service.store, service.credentials)))


@blocking_endpoint
def folders_get(request: Request, raw: bytes) -> Response:
    every = folders.every(service.store, service.credentials)
    if _name(request) not in every:
        return PlainTextResponse(f"folder {_name(request)} not found", 404)
    return JSONResponse(_folder_out(_name(request), every[_name(request)]))


@blocking_endpoint
def folders_exists(request: Request, raw: bytes) -> Response:
    return JSONResponse(_name(request) in folders.every(service.store, service.credentials))


def _save(request: Request, raw: bytes, name: str, creating: bool) -> Response:
    exists = name in folders.every(service.store, service.credentials)
    try:
        folders.save(service.credentials, name, object_body(raw), creating=creating, exists=exists)
    except folders.FolderError as exc:
        return PlainTextResponse(str(exc), 404 if not creating and not exists else 400)
    return PlainTextResponse(f"folder {name} {'created' if creating else 'updated'}", 200)


@blocking_endpoint
def folders_create(request: Request, raw: bytes) -> Response:
    return _save(request, raw, str(object_body(raw).get("name", "")), True)


@blocking_endpoint
def folders_update(request: Request, raw: bytes) -> Response:
    return _save(request, raw, _name(request), False)


@blocking_endpoint
def folders_delete(request: Request, raw: bytes) -> Response:
    try:
        held = folders.delete(service.store, service.credentials, _name(request))
    except KeyError:
        return PlainTextResponse(f"folder {_name(request)} not found", 404)
    staying = f" (its {held} item(s) stay until they are deleted)" if held else ""
    return PlainTextResponse(f"folder {_name(request)} deleted{staying}")


W = "/api/w/{workspace}"
routes = [
    Route("/api/workspaces/exists", workspaces_exists, methods=["POST"]),
    Route("/api/workspaces/list", workspaces_list),
    Route(f"{W}/workspaces/tarball", tarball),
    Route(f"{W}/folders/list", folders_list),
    Route(f"{W}/folders/listnames", folders_listnames),
    Route(f"{W}/folders/get/{{name}}", folders_get),
    Route(f"{W}/folders/exists/{{name}}", folders_exists),
    Route(f"{W}/folders/create", folders_create, methods=["POST"]),
    Route(f"{W}/folders/update/{{name}}", folders_update, methods=["POST"]),
    Route(f"{W}/folders/delete/{{name}}", folders_delete, methods=["DELETE", "POST"]),
]
"""Mounted by `app.rest.api` beside its own routes."""
