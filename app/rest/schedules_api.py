"""REST for schedules, in Windmill's shapes, under `/api/w/{workspace}/schedules/`.

`create`, `update/{path}`, `get/{path}`, `exists/{path}`, `list`, `delete/{path}`,
`setenabled/{path}` (body `{"enabled": bool}`) and `preview` (body `{"schedule",
"timezone"}`, the next firings as ISO times), as Windmill has them; plus `runs/{path}`
(the schedule's past runs), Millrace's own.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from app import settings
from app.services import catalog
from app.rest import users
from app.services.engine_service import service
from app.services.offloop import off_loop
from app.services.scheduling import iso, preview, save, schedule_out, scheduler

Handler = Callable[[Request], Awaitable[Response]]


def routes(prefix: str, errors: Callable[[Handler], Handler], json_body: Any) -> list[Route]:
    """The schedule routes under `prefix` (`/api/w/{workspace}`), wrapped in `errors`."""

    async def create(request: Request) -> Response:
        body = await json_body(request, {})
        row = await off_loop(_save_as_caller, request, str(body.get("path") or ""), body, True)
        return PlainTextResponse(row.path, 201)

    async def update(request: Request) -> Response:
        row = await off_loop(_save_as_caller, request, request.path_params["path"], await json_body(request, {}), False)
        return PlainTextResponse(row.path)

    async def get(request: Request) -> Response:
        return JSONResponse(await off_loop(lambda: schedule_out(_schedule(request))))

    async def exists(request: Request) -> Response:
        found = await off_loop(service.store.get_schedule, request.path_params["path"], workspace=settings.WORKSPACE)
        return JSONResponse(found is not None)

    async def listing(request: Request) -> Response:
        start = request.query_params.get("path_start") or ""
        return JSONResponse(await off_loop(_listing, start))

    async def remove(request: Request) -> Response:
        await off_loop(service.store.delete_schedule, request.path_params["path"], workspace=settings.WORKSPACE)
        return PlainTextResponse(f"schedule {request.path_params['path']} deleted")

    async def set_enabled(request: Request) -> Response:
        body = await json_body(request, {})
        if not isinstance(body, dict) or not isinstance(body.get("enabled"), bool):
            raise catalog.CatalogError('the body must be {"enabled": true} or {"enabled": false}')
        row = await off_loop(scheduler().set_enabled, request.path_params["path"], body["enabled"],
                             workspace=settings.WORKSPACE)
        return PlainTextResponse(f"schedule {row.path} {'enabled' if row.enabled else 'disabled'}")

    async def preview_route(request: Request) -> Response:
        body = await json_body(request, {})
        result = preview(str(body.get("schedule") or ""), str(body.get("timezone") or "UTC"))
        if result["error"]:
            return PlainTextResponse(result["error"], 400)
        return JSONResponse(result["next"])

    async def runs(request: Request) -> Response:
        return JSONResponse(await off_loop(_runs, request))

    s = f"{prefix}/schedules"
    return [
        Route(f"{s}/create", errors(create), methods=["POST"]),
        Route(f"{s}/update/{{path:path}}", errors(update), methods=["POST"]),
        Route(f"{s}/get/{{path:path}}", errors(get)),
        Route(f"{s}/exists/{{path:path}}", errors(exists)),
        Route(f"{s}/list", errors(listing)),
        Route(f"{s}/delete/{{path:path}}", errors(remove), methods=["DELETE", "POST"]),
        Route(f"{s}/setenabled/{{path:path}}", errors(set_enabled), methods=["POST"]),
        Route(f"{s}/preview", errors(preview_route), methods=["POST"]),
        Route(f"{s}/runs/{{path:path}}", errors(runs)),
    ]


def _save_as_caller(request: Request, path: str, body: dict[str, Any], creating: bool) -> Any:
    return save(path, body, creating=creating, edited_by=users.caller(request).username)


def _listing(start: str) -> list[dict[str, Any]]:
    rows = service.store.list_schedules(workspace=settings.WORKSPACE)
    return [schedule_out(row) for row in rows if row.path.startswith(start)]


def _runs(request: Request) -> list[dict[str, Any]]:
    _schedule(request)
    rows = service.store.schedule_runs(request.path_params["path"], workspace=settings.WORKSPACE,
                                       limit=int(request.query_params.get("per_page", 50)))
    return [{"id": r.id, "status": r.status, "scheduled_for": iso(r.scheduled_for), "script_path": r.path,
             "success": r.status == "success", "result": r.result, "error": r.error} for r in rows]


def _schedule(request: Request) -> Any:
    from engine import NotFound

    row = service.store.get_schedule(request.path_params["path"], workspace=settings.WORKSPACE)
    if row is None:
        raise NotFound(f"schedule {request.path_params['path']!r} not found")
    return row
