"""Runs: create, read, update, finish, list."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, bindparam, Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.errors import BadInput, NotFound, RunLost
from engine.store import sqlite_direct
from engine.store.base import StoreBase, check_fields, check_status, from_values, to_model, to_models
from engine.store.db import held_by
from engine.store.records import defaults
from engine.store.tables import TERMINAL_STATUSES, Run, RunStatus

RUNS = Run.__table__
RUN_KINDS = frozenset({"flow", "script", "part"})
_UPDATABLE = frozenset(RUNS.c.keys()) - {"id"}
_RUN_DEFAULTS = defaults(Run)
# Built once: the execute parameters name the columns to SET.
_UPDATE_RUN = update(RUNS).where(RUNS.c.id == bindparam("target_id")).returning(*RUNS.c)
# A canceled run's status is final: a worker that had not yet heard of it (it learns at its
# next heartbeat) must not finish, suspend or queue it again.
_UPDATE_LIVE_RUN = _UPDATE_RUN.where(RUNS.c.status != RunStatus.CANCELED.value)
# A worker changes the status of the run it holds only while it still holds it.
_UPDATE_HELD_RUN = _UPDATE_LIVE_RUN.where(RUNS.c.worker_id == bindparam("holder"))
_FINISH_LIVE_RUN = update(RUNS).where(RUNS.c.id == bindparam("target_id"), RUNS.c.status != RunStatus.CANCELED.value)
_FINISH_HELD_RUN = _FINISH_LIVE_RUN.where(RUNS.c.worker_id == bindparam("holder"))


class RunStore(StoreBase):
    """The runs table: one row per run, the truth about its status and result."""

    def create_run(
        self,
        *,
        kind: str,
        path: str,
        args: dict[str, Any] | None = None,
        flow: Any = None,
        id: str | None = None,
        exist_ok: bool = False,
        **fields: Any,
    ) -> Run:
        """Insert a run (status "queued" unless `status` says otherwise).

        Args:
            kind: "flow", "script", or "part" (a piece of a flow run given to any worker:
                one loop iteration, one branch, one step; see engine/executor/parts.py).
            path: The flow or script path (or a file name for ad-hoc runs).
            args: The run's arguments.
            flow: Snapshot of the flow value being run (needed to resume).
            id: The run id; a uuid4 hex when None. Deterministic ids make creation
                idempotent together with `exist_ok`.
            exist_ok: When the id exists already, return that run instead of raising.
            **fields: Other Run columns: workspace, status, tag, trigger, parent_run_id,
                root_run_id (defaults to the parent's root, else the run itself),
                schedule_id, scheduled_for (defaults to now), state.

        Raises:
            BadInput: The id exists already (and not `exist_ok`).
        """
        row = self._new_row(kind, path, args, flow, id, **fields)
        try:
            with self.db.transaction() as conn:
                row["root_run_id"] = row["root_run_id"] or _root_of(conn, row["parent_run_id"]) or row["id"]
                stmt = self.db.insert(RUNS).values(row)
                if exist_ok:
                    stmt = stmt.on_conflict_do_nothing(index_elements=["id"])
                if conn.execute(stmt.returning(RUNS.c.id)).first() is None:
                    return to_model(Run, conn.execute(_by_id(row["id"])).one())
        except IntegrityError:
            raise BadInput(f"a run with id {row['id']!r} exists already") from None
        return from_values(Run, row)

    def create_runs(self, runs: Iterable[Mapping[str, Any]]) -> list[str]:
        """Insert many runs in one transaction; returns their ids in the order given.

        Each mapping holds `create_run`'s keyword arguments (without `exist_ok`). The
        rows go in as multi-row INSERTs, so queueing thousands of runs takes a fraction
        of a second instead of a transaction each.

        Raises:
            BadInput: An id exists already (then none of the runs is inserted).
        """
        rows = [self._new_row(**spec) for spec in runs]
        if not rows:
            return []
        try:
            with self.db.transaction() as conn:
                roots: dict[str | None, str | None] = {None: None}
                for row in rows:
                    parent = row["parent_run_id"]
                    if parent not in roots:
                        roots[parent] = _root_of(conn, parent)
                    row["root_run_id"] = row["root_run_id"] or roots[parent] or row["id"]
                conn.execute(insert(RUNS), rows)
        except IntegrityError:
            raise BadInput("a run with one of these ids exists already; none was queued") from None
        return [row["id"] for row in rows]

    def _new_row(
        self, kind: str, path: str, args: Any = None, flow: Any = None, id: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Every column of a new run, checked, defaults filled in; root_run_id is left to the caller."""
        if kind not in RUN_KINDS:
            raise ValueError(f"run kind must be 'flow', 'script' or 'part', not {kind!r}")
        check_fields(fields, _UPDATABLE - {"created_at"}, "Run")
        now = self.clock.now()
        row = {**_RUN_DEFAULTS, "scheduled_for": now, "state": {}, **fields, "id": id or uuid.uuid4().hex,
               "kind": kind, "path": path, "args": {} if args is None else args, "flow": flow, "created_at": now}
        row["status"] = check_status(row["status"], RunStatus)
        return row

    def get_run(self, run_id: str) -> Run | None:
        """The run with this id, or None."""
        with self.db.autocommit() as conn:
            row = conn.execute(_GET_RUN, {"run_id": run_id}).first()
        return None if row is None else to_model(Run, row)

    def get_runs(self, run_ids: Iterable[str], *, finished: bool = False) -> list[Run]:
        """The runs with these ids that exist (only the finished ones with `finished`)."""
        stmt = select(RUNS).where(RUNS.c.id.in_(list(run_ids)))
        if finished:
            stmt = stmt.where(RUNS.c.status.in_([s.value for s in TERMINAL_STATUSES]))
        with self.db.autocommit() as conn:
            return to_models(Run, conn.execute(stmt))

    def update_run(self, run_id: str, **fields: Any) -> Run:
        """Set some columns of a run and return it as it now is; the status of a canceled
        run stays canceled (a change of status leaves it as it is).

        A worker's change of status of the run it holds (Database.holder) lands only
        while the run is still that worker's.

        Raises:
            NotFound: No run has this id.
            TypeError: A field is not a Run column (or is `id`).
            RunLost: The calling worker's run was taken over; nothing changed.
        """
        check_fields(fields, _UPDATABLE, "Run")
        statement, values = _UPDATE_RUN, {**fields, "target_id": run_id}
        holder = None
        if "status" in fields:
            values["status"] = check_status(fields["status"], RunStatus)
            holder = held_by(self.db, run_id)
            if holder is None:
                statement = _UPDATE_LIVE_RUN
            else:
                statement, values["holder"] = _UPDATE_HELD_RUN, holder
        with self.db.autocommit() as conn:
            row = conn.execute(statement, values).first()
            if row is None:
                row = conn.execute(_GET_RUN, {"run_id": run_id}).first()
                if row is not None and holder is not None and row.worker_id != holder:
                    raise RunLost(f"run {run_id} is no longer worker {holder}'s: its status stays {row.status}")
        if row is None:
            raise NotFound(f"run {run_id!r} does not exist")
        return to_model(Run, row)

    def finish_run(
        self,
        run_id: str,
        status: str,
        result: Any = None,
        error: Any = None,
        finished_at: float | None = None,
        *,
        returning: bool = True,
    ) -> Run | None:
        """Record a run's end: a terminal status, its result and error; return the run
        as it now is (a canceled run stays canceled), or None with `returning=False`,
        which reads nothing back (the run's flow and args are not decoded again).

        Raises:
            NotFound: No run has this id.
            ValueError: `status` is not success, failure or canceled.
        """
        status = check_status(status, RunStatus)
        if status not in TERMINAL_STATUSES:
            raise ValueError(f"finish_run needs success, failure or canceled, not {status!r}")
        fields = {"status": status, "result": result, "error": error, "finished_at": self._now(finished_at)}
        if returning:
            return self.update_run(run_id, **fields)
        holder = held_by(self.db, run_id)
        statement, values = _FINISH_LIVE_RUN, {**fields, "target_id": run_id}
        if holder is not None:
            statement, values["holder"] = _FINISH_HELD_RUN, holder
        if self.db.dialect == "sqlite":  # the executor's, once a run: see sqlite_direct
            count = sqlite_direct.run(self.db, statement, values)
        else:
            with self.db.autocommit() as conn:
                count = conn.execute(statement, values).rowcount
        if count == 0:
            self._not_finished(run_id, holder)
        return None

    def _not_finished(self, run_id: str, holder: str | None) -> None:
        """Why an end was not recorded: no such run, or (raised) the worker lost it; a
        canceled run staying canceled is no error."""
        run = self.get_run(run_id)
        if run is None:
            raise NotFound(f"run {run_id!r} does not exist")
        if holder is not None and run.worker_id != holder:
            raise RunLost(f"run {run_id} is no longer worker {holder}'s: its status stays {run.status}")

    def list_runs(
        self,
        *,
        path: str | None = None,
        status: str | Iterable[str] | None = None,
        since: float | None = None,
        until: float | None = None,
        workspace: str | None = None,
        parent_run_id: str | None = None,
        top_level: bool = False,
        trigger: str | None = None,
        not_triggers: Iterable[str] = (),
        limit: int = 50,
        offset: int = 0,
    ) -> list[Run]:
        """Runs matching every given filter, newest first.

        `since` and `until` bound `created_at` (since inclusive, until exclusive);
        `status` is one status or several. `parent_run_id=None` does not filter;
        `top_level=True` keeps only runs without a parent (no subflow runs). Parts
        (kind "part") are only listed among the runs of their parent. `trigger` keeps
        the runs started that way only; `not_triggers` leaves out those started these ways.
        """
        where = _filters(path, status, since, until, workspace, parent_run_id, top_level, trigger, not_triggers)
        stmt = (
            select(RUNS)
            .where(*where)
            .order_by(RUNS.c.created_at.desc(), RUNS.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self.db.autocommit() as conn:
            return to_models(Run, conn.execute(stmt))

    def count_runs(
        self,
        *,
        path: str | None = None,
        status: str | Iterable[str] | None = None,
        since: float | None = None,
        until: float | None = None,
        workspace: str | None = None,
        parent_run_id: str | None = None,
        top_level: bool = False,
        trigger: str | None = None,
        not_triggers: Iterable[str] = (),
    ) -> int:
        """How many runs `list_runs` would page through with the same filters."""
        where = _filters(path, status, since, until, workspace, parent_run_id, top_level, trigger, not_triggers)
        with self.db.autocommit() as conn:
            return conn.execute(select(func.count()).select_from(RUNS).where(*where)).scalar_one()

    def delete_run(self, run_id: str) -> bool:
        """Delete a run with its journal and logs; False when there was none."""
        with self.db.autocommit() as conn:
            return conn.execute(delete(RUNS).where(RUNS.c.id == run_id)).rowcount > 0


def _by_id(run_id: str) -> Any:
    return select(RUNS).where(RUNS.c.id == run_id)


# Built once with a bound id: a statement built per call costs as much again to build
# and to derive its cache key as it does to run.
_GET_RUN = select(RUNS).where(RUNS.c.id == bindparam("run_id"))


def _root_of(conn: Connection, parent_run_id: str | None) -> str | None:
    if parent_run_id is None:
        return None
    stmt = select(RUNS.c.root_run_id).where(RUNS.c.id == parent_run_id)
    return conn.execute(stmt).scalar() or parent_run_id


def _filters(
    path: str | None,
    status: str | Iterable[str] | None,
    since: float | None,
    until: float | None,
    workspace: str | None,
    parent_run_id: str | None,
    top_level: bool = False,
    trigger: str | None = None,
    not_triggers: Iterable[str] = (),
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if not_triggers:
        where.append(RUNS.c.trigger.not_in(list(not_triggers)))
    if top_level:
        where.append(RUNS.c.parent_run_id.is_(None))
    elif parent_run_id is None:
        # Parts are pieces of their parent's run (its journal shows them), not runs of their own.
        where.append(RUNS.c.kind != "part")
    for column, value in (
        (RUNS.c.path, path),
        (RUNS.c.workspace, workspace),
        (RUNS.c.parent_run_id, parent_run_id),
        (RUNS.c.trigger, trigger),
    ):
        if value is not None:
            where.append(column == value)
    if isinstance(status, str):
        where.append(RUNS.c.status == check_status(status, RunStatus))
    elif status is not None:
        where.append(RUNS.c.status.in_([check_status(s, RunStatus) for s in status]))
    if since is not None:
        where.append(RUNS.c.created_at >= since)
    if until is not None:
        where.append(RUNS.c.created_at < until)
    return where
