"""Schedules in the app: the scheduler lifespan task, saving a schedule, previews of its
firings (REST for them: `app.rest.schedules_api`)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable

from app import settings
from app.services import catalog
from app.services.engine_service import service

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
