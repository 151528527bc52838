"""Schedules: save, read, list, enable, delete, and move their firing cursors."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import delete, func, select, update

from engine.errors import NotFound
from engine.item_paths import check_item_path
from engine.store.base import StoreBase, to_model, to_models
from engine.store.runs import RUNS
from engine.store.tables import Run, RunStatus, Schedule

SCHEDULES = Schedule.__table__
_EDITABLE = ("schedule", "timezone", "script_path", "is_flow", "args", "enabled", "catch_up",
             "on_failure", "summary")


class ScheduleStore(StoreBase):
    """The schedules table, and the queries the scheduler needs over runs."""

    def save_schedule(self, path: str, *, workspace: str = "main", now: float | None = None,
                      **fields: Any) -> Schedule:
        """Create or replace the schedule at `path` and return it.

        A new schedule, or one whose expression, time zone or enabled flag changes,
        starts counting firings from `now` (the store's clock when None): firings
        before that are never caught up. A new on_failure handler sees failures from now.
        A new expression or time zone clears the schedule's `error`.

        Raises:
            ItemPathError: `path`, or the flow or script path it runs, is not an item path.
        """
        check_item_path(path, "schedule")
        if "script_path" in fields:
            check_item_path(fields["script_path"], "schedule target")
        unknown = set(fields) - set(_EDITABLE)
        if unknown:
            raise TypeError(f"Schedule has no field(s) {', '.join(sorted(unknown))}")
        now = self._now(now)
        old = self.get_schedule(path, workspace=workspace)
        values = {name: getattr(old, name) for name in _EDITABLE} if old is not None else {}
        values.update(fields)
        restart = old is None or any(
            values.get(name) != getattr(old, name) for name in ("schedule", "timezone", "enabled"))
        row = Schedule(
            workspace=workspace, path=path, **values, error=_kept_error(old, values),
            created_at=old.created_at if old is not None else now, edited_at=now,
            checked_until=now if restart else old.checked_until,  # type: ignore[union-attr]
            failures_checked_until=(old.failures_checked_until
                                    if old is not None and old.on_failure == values.get("on_failure") else now),
        )
        data = dataclasses.asdict(row)
        stmt = self.db.insert(SCHEDULES).values(data)
        stmt = stmt.on_conflict_do_update(
            index_elements=["workspace", "path"],
            set_={name: stmt.excluded[name] for name in data if name not in ("workspace", "path")},
        )
        with self.db.autocommit() as conn:
            conn.execute(stmt)
        return row

    def get_schedule(self, path: str, *, workspace: str = "main") -> Schedule | None:
        """The schedule at `path`, or None."""
        stmt = select(SCHEDULES).where(SCHEDULES.c.workspace == workspace, SCHEDULES.c.path == path)
        with self.db.autocommit() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else to_model(Schedule, row)

    def list_schedules(self, *, workspace: str | None = "main", enabled: bool | None = None) -> list[Schedule]:
        """Schedules by path; `workspace=None` lists every workspace's."""
        stmt = select(SCHEDULES).order_by(SCHEDULES.c.workspace, SCHEDULES.c.path)
        if workspace is not None:
            stmt = stmt.where(SCHEDULES.c.workspace == workspace)
        if enabled is not None:
            stmt = stmt.where(SCHEDULES.c.enabled == enabled)
        with self.db.autocommit() as conn:
            return to_models(Schedule, conn.execute(stmt))

    def set_schedule_enabled(self, path: str, enabled: bool, *, workspace: str = "main",
                             now: float | None = None) -> Schedule:
        """Enable or disable a schedule (re-enabling does not catch up the pause).

        Raises:
            NotFound: no schedule at `path`.
        """
        if self.get_schedule(path, workspace=workspace) is None:
            raise NotFound(f"schedule {path!r} not found")
        return self.save_schedule(path, workspace=workspace, now=now, enabled=enabled)

    def delete_schedule(self, path: str, *, workspace: str = "main") -> None:
        """Delete a schedule (its past runs stay).

        Raises:
            NotFound: no schedule at `path`.
        """
        stmt = delete(SCHEDULES).where(SCHEDULES.c.workspace == workspace, SCHEDULES.c.path == path)
        with self.db.autocommit() as conn:
            if conn.execute(stmt).rowcount == 0:
                raise NotFound(f"schedule {path!r} not found")

    def set_schedule_error(self, path: str, error: str, *, workspace: str = "main") -> bool:
        """Record why a schedule cannot fire; False when it was recorded already (or the
        schedule is gone), so that only one of several schedulers reports it."""
        stmt = update(SCHEDULES).where(SCHEDULES.c.workspace == workspace, SCHEDULES.c.path == path,
                                       SCHEDULES.c.error.is_(None)).values(error=error)
        with self.db.autocommit() as conn:
            return conn.execute(stmt).rowcount == 1

    def advance_schedule(self, path: str, *, workspace: str = "main", checked_until: float | None = None,
                         failures_checked_until: float | None = None) -> None:
        """Move a schedule's cursors forward (never back, so concurrent schedulers agree)."""
        at = (SCHEDULES.c.workspace == workspace, SCHEDULES.c.path == path)
        with self.db.transaction() as conn:
            for column, value in (("checked_until", checked_until),
                                  ("failures_checked_until", failures_checked_until)):
                if value is not None:
                    col = SCHEDULES.c[column]
                    conn.execute(update(SCHEDULES).where(*at, col < value).values({column: value}))

    def schedule_runs(self, path: str, *, workspace: str = "main", limit: int = 50,
                      status: str | None = None, finished_after: float | None = None) -> list[Run]:
        """Runs a schedule started (trigger "schedule"), newest firing first."""
        stmt = select(RUNS).where(RUNS.c.workspace == workspace, RUNS.c.schedule_id == path,
                                  RUNS.c.trigger == "schedule")
        if status is not None:
            stmt = stmt.where(RUNS.c.status == RunStatus(status).value)
        if finished_after is not None:
            stmt = stmt.where(RUNS.c.finished_at > finished_after)
        stmt = stmt.order_by(RUNS.c.scheduled_for.desc(), RUNS.c.id.desc()).limit(limit)
        with self.db.autocommit() as conn:
            return to_models(Run, conn.execute(stmt))

    def count_schedule_runs(self, path: str, *, workspace: str = "main") -> int:
        """How many runs a schedule started."""
        stmt = select(func.count()).select_from(RUNS).where(
            RUNS.c.workspace == workspace, RUNS.c.schedule_id == path, RUNS.c.trigger == "schedule")
        with self.db.autocommit() as conn:
            return conn.execute(stmt).scalar_one()


def _kept_error(old: Schedule | None, values: dict[str, Any]) -> str | None:
    """The old schedule's error while its expression and time zone stay as they were."""
    if old is None or any(values.get(name) != getattr(old, name) for name in ("schedule", "timezone")):
        return None
    return old.error
