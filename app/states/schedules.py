"""State of the schedules page: the list, and the editor of one schedule."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import reflex as rx

from app.services import catalog, scheduling
from app.views import present
from app import settings
from app.services.engine_service import service
from app.services.offloop import off_loop
from app.views.resource_choices import resource_choices
from app.states.guard import admin_only, caller
from app.states.session import record
from components.schema_form import SchemaFormState

TIMEZONES: list[str] = []


def timezone_names() -> list[str]:
    """Every IANA zone, UTC first (read once)."""
    if not TIMEZONES:
        from engine import timezones

        TIMEZONES.extend(timezones())
    return TIMEZONES


def _row(row: Any) -> dict[str, Any]:
    from engine import BadInput, Cron

    error, next_text = row.error or "", "paused"
    try:
        cron = Cron.parse(row.schedule, row.timezone)
    except BadInput as exc:  # stored before such expressions were refused: say why it never fires
        cron, error = None, error or str(exc)
    if row.enabled and cron is not None and not error:
        next_text = _local(cron.next(service.engine.clock.now(), 1)[0], row.timezone)
    return {"path": row.path, "target": row.script_path, "kind": "flow" if row.is_flow else "script",
            "words": scheduling.schedule_out(row)["description"], "schedule": row.schedule,
            "timezone": row.timezone, "enabled": row.enabled, "next": next_text, "error": error}


def _local(ts: float, timezone: str) -> str:
    return dt.datetime.fromtimestamp(ts, scheduling.cron_zone(timezone)).strftime("%a %Y-%m-%d %H:%M:%S %Z")


def _with_args(schema: dict[str, Any] | None, args: dict[str, Any]) -> dict[str, Any]:
    """The schema with the schedule's args as defaults, so the form starts from them."""
    schema = copy.deepcopy(schema or {})
    for name, value in args.items():
        prop = (schema.get("properties") or {}).get(name)
        if isinstance(prop, dict):
            prop["default"] = value
    return schema


class SchedulesState(SchemaFormState, rx.State):
    """The schedules, and the one being created or edited (its args are the schema form)."""

    schedules: list[dict[str, Any]] = []
    editing: bool = False
    is_new: bool = True
    path: str = ""
    cron: str = "0 2 * * *"
    timezone: str = "UTC"
    kind: str = "flow"
    target: str = ""
    catch_up: str = "skip"
    on_failure: str = ""
    targets: list[str] = []
    runs: list[dict[str, str]] = []
    problem: str = ""
    saved: str = ""

    @rx.var
    def timezone_options(self) -> list[str]:
        return timezone_names()

    @rx.var
    def preview(self) -> dict[str, Any]:
        """The cron being typed: its error, its words and its next 10 firings (local time)."""
        result = scheduling.preview(self.cron, self.timezone)
        zone = self.timezone if not result["error"] else "UTC"
        result["next"] = [_local(dt.datetime.fromisoformat(t).timestamp(), zone) for t in result["next"]]
        return result

    @rx.var
    def cron_error(self) -> str:
        return str(self.preview["error"])

    @rx.var
    def cron_words(self) -> str:
        return str(self.preview["description"])

    @rx.var
    def next_firings(self) -> list[str]:
        return list(self.preview["next"])

    @rx.event
    async def load(self) -> None:
        self.schedules = await off_loop(_rows)
        self.problem = ""

    @rx.event
    async def new(self) -> None:
        """Open an empty editor."""
        self.editing, self.is_new, self.path, self.cron, self.timezone = True, True, "", "0 2 * * *", "UTC"
        self.catch_up, self.on_failure, self.runs, self.problem, self.saved = "skip", "", [], "", ""
        await self.set_kind("flow")

    @rx.event
    async def edit(self, path: str) -> None:
        """Open the editor on a saved schedule, with its past runs."""
        row, runs = await off_loop(_schedule_and_runs, path)
        if row is None:
            self.problem = f"schedule {path} not found"
            return
        self.editing, self.is_new, self.path, self.cron, self.timezone = True, False, row.path, row.schedule, row.timezone
        self.catch_up, self.on_failure, self.problem, self.saved = row.catch_up, row.on_failure or "", "", ""
        self.kind = "flow" if row.is_flow else "script"
        await self._load_targets()
        await self._show_target(row.script_path, dict(row.args or {}))
        self.runs = runs

    @rx.event
    def close(self) -> None:
        self.editing = False

    @rx.event
    def set_path(self, value: str) -> None:
        self.path = value

    @rx.event
    def set_cron(self, value: str) -> None:
        self.cron = value

    @rx.event
    def set_timezone(self, value: str) -> None:
        self.timezone = value

    @rx.event
    def set_catch_up(self, value: str) -> None:
        self.catch_up = value

    @rx.event
    def set_on_failure(self, value: str) -> None:
        self.on_failure = value

    @rx.event
    async def set_kind(self, value: str) -> None:
        """Choose flow or script; the first one of that kind becomes the target."""
        self.kind = value
        await self._load_targets()
        await self._show_target(self.targets[0] if self.targets else "", {})

    @rx.event
    async def set_target(self, value: str) -> None:
        await self._show_target(value, {})

    async def _load_targets(self) -> None:
        self.targets = await off_loop(_targets, self.kind == "flow")

    async def _show_target(self, path: str, args: dict[str, Any]) -> None:
        from engine import MillraceError

        self.target = path
        try:
            schema = await off_loop(scheduling.scheduler().target_schema, path, self.kind == "flow") if path else None
        except MillraceError as exc:
            schema, self.problem = None, str(exc)
        shown = _with_args(schema, args)
        self.show_schema(shown, await off_loop(resource_choices, shown))

    @rx.event
    @admin_only("change schedules")
    async def save(self, form_data: dict[str, Any]) -> None:
        """Check and save the schedule with the form's args."""
        from engine import MillraceError

        args = self.check_form(form_data)
        if args is None:
            return
        body = {"schedule": self.cron, "timezone": self.timezone, "script_path": self.target,
                "is_flow": self.kind == "flow", "args": args, "catch_up": self.catch_up,
                "on_failure": self.on_failure.strip() or None}
        try:
            row = await off_loop(_save, self.path, body, self.is_new)
        except (MillraceError, catalog.CatalogError) as exc:
            self.problem, self.saved = str(exc), ""
            return
        self.problem, self.saved, self.is_new, self.path = "", f"Saved {row.path}", False, row.path
        await self.load()
        self.problem = ""

    @rx.event
    @admin_only("enable or pause schedules")
    async def toggle(self, path: str, enabled: bool) -> None:
        await off_loop(_toggle, path, enabled)
        await self.load()

    @rx.event
    @admin_only("delete schedules")
    async def delete(self, path: str) -> None:
        await off_loop(_delete, path)
        if self.path == path:
            self.editing = False
        await self.load()


def _rows() -> list[dict[str, Any]]:
    return [_row(row) for row in service.store.list_schedules(workspace=settings.WORKSPACE)]


def _schedule_and_runs(path: str) -> tuple[Any, list[dict[str, str]]]:
    """The saved schedule at `path` (None when there is none) and its latest runs."""
    row = service.store.get_schedule(path, workspace=settings.WORKSPACE)
    if row is None:
        return None, []
    runs = service.store.schedule_runs(row.path, workspace=settings.WORKSPACE, limit=20)
    return row, [present.run_row(run) for run in runs]


def _targets(flows: bool) -> list[str]:
    store = service.store
    rows = store.list_flows(workspace=settings.WORKSPACE) if flows else store.list_scripts(workspace=settings.WORKSPACE)
    return [row.path for row in rows]


def _save(path: str, body: dict[str, Any], creating: bool) -> Any:
    row = scheduling.save(path, body, creating=creating, edited_by=caller().username)
    record("schedule.saved", row.path, body["schedule"])
    return row


def _toggle(path: str, enabled: bool) -> None:
    scheduling.scheduler().set_enabled(path, enabled, workspace=settings.WORKSPACE)
    record("schedule.enabled" if enabled else "schedule.disabled", path)


def _delete(path: str) -> None:
    from engine import NotFound

    try:
        service.store.delete_schedule(path, workspace=settings.WORKSPACE)
        record("schedule.deleted", path)
    except NotFound:
        pass
