"""Schedules in the app: the scheduler lifespan task, Windmill-shaped REST, previews.

REST under `/api/w/{workspace}/schedules/`: `create`, `update/{path}`, `get/{path}`,
`exists/{path}`, `list`, `delete/{path}`, `setenabled/{path}` (body `{"enabled": bool}`)
and `preview` (body `{"schedule", "timezone"}`, the next firings as ISO times), as
Windmill has them; plus `runs/{path}` (the schedule's past runs), Millrace's own.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from app.services import catalog, users
from app import settings
from app.services.engine_service import service
from app.services.offloop import off_loop

log = logging.getLogger("millrace.app")

FIELDS = ("schedule", "timezone", "script_path", "is_flow", "args", "enabled", "catch_up", "on_failure", "summary")
TICK_SECONDS = 1.0
_EDITOR = "schedule_editor:"
"""app_settings key prefix: who last saved each schedule."""
_scheduler: Any = None


def scheduler() -> Any:
    """The app's one Scheduler, over the app's Engine."""
    global _scheduler
    if _scheduler is None:
        from engine import Scheduler

        _scheduler = Scheduler(service.engine, workspace=settings.WORKSPACE)
    return _scheduler


async def serve(on_submit: Callable[[], None]) -> None:
    """On the engine's thread: submit due firings every second; `on_submit()` after each that did."""
    await scheduler().serve(TICK_SECONDS, on_submit=lambda ids: on_submit())


def iso(ts: float | None) -> str | None:
    return None if ts is None else dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat()


def preview(expression: str, timezone: str, count: int = 10, now: float | None = None) -> dict[str, Any]:
    """{"error"} or {"description", "next": [ISO times in the zone]} for a cron being typed.

    Needs no database (pages compute it while compiling): `now` defaults to real time.
    """
    import time

    from engine import BadInput, Cron

    try:
        cron = Cron.parse(expression, timezone or "UTC")
    except BadInput as exc:
        return {"error": str(exc), "description": "", "next": []}
    zone = cron_zone(cron.timezone)
    times = [dt.datetime.fromtimestamp(t, zone) for t in cron.next(time.time() if now is None else now, count)]
    return {"error": "", "description": cron.describe(), "next": [t.isoformat() for t in times]}


def cron_zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def schedule_out(row: Any) -> dict[str, Any]:
    """A schedule as Windmill's API shows it (plus Millrace's catch_up and description); `error`
    says why it never fires, when the scheduler found it cannot."""
    from engine import describe_cron

    return {"path": row.path, "workspace_id": row.workspace, "schedule": row.schedule, "timezone": row.timezone,
            "script_path": row.script_path, "is_flow": row.is_flow, "args": row.args or {},
            "enabled": row.enabled, "on_failure": row.on_failure, "summary": row.summary,
            "catch_up": row.catch_up, "description": describe_cron(row.schedule), "error": row.error,
            "edited_by": editor(row.path) or "", "edited_at": iso(row.edited_at),
            "email": f"{editor(row.path) or 'nobody'}@localhost",
            "extra_perms": {}}


def editor(path: str) -> str | None:
    """Who last saved the schedule at `path` (its runs act for them), None when unrecorded."""
    return service.credentials.setting(_EDITOR + path)


def save(path: str, body: dict[str, Any], *, creating: bool, edited_by: str) -> Any:
    """Check and save a schedule from a request body or a page; `edited_by` saves it.

    Raises:
        BadInput / CatalogError: what is wrong; NotFound: a missing target or schedule.
    """
    from engine import NotFound

    path = catalog.check_path(path, "schedule")
    existing = service.store.get_schedule(path, workspace=settings.WORKSPACE)
    if creating and existing is not None:
        raise catalog.CatalogError(f"a schedule exists already at {path}")
    if not creating and existing is None:
        raise NotFound(f"schedule {path!r} not found")
    fields = {name: body[name] for name in FIELDS if name in body}
    if "args" in fields and not isinstance(fields["args"], dict):
        raise catalog.CatalogError("args must be a JSON object")
    row = scheduler().save(path, workspace=settings.WORKSPACE, **fields)
    service.credentials.set_setting(_EDITOR + path, edited_by)
    return row


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
