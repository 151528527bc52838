"""A run's journal (one record per step position) and its append-only log lines.

The executor saves a step record after every step, so these calls sit on the hot path:
each is one statement in one short transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, exists, insert, select, text
from sqlalchemy.exc import IntegrityError

from engine.errors import NotFound, RunLost
from engine.store.base import (
    StoreBase,
    check_fields,
    check_status,
    is_foreign_key_violation,
    to_models,
)
from engine.store import sqlite_direct
from engine.store.db import dialect_insert, held_by
from engine.store.tables import LogEntry, Run, StepRecord, StepStatus

STEPS = StepRecord.__table__
RUNS = Run.__table__
LOGS = LogEntry.__table__
_STEP_FIELDS = frozenset(STEPS.c.keys()) - {"run_id", "key"}
# What a new record holds for the fields a first save_step leaves out.
_STEP_DEFAULTS: dict[str, Any] = {"status": StepStatus.RUNNING.value, "attempts": 0, "data": {}}
# What every insert of a record gives: its key and the defaults above.
_KEYED = frozenset({"run_id", "key", *_STEP_DEFAULTS})
_STEP_STATUSES = frozenset(status.value for status in StepStatus)
"""Statuses as the plain strings they are stored as (a StepStatus member is made one)."""


class JournalStore(StoreBase):
    """Step records and log lines of runs."""

    def save_step(self, run_id: str, key: str, **fields: Any) -> None:
        """Insert or update the record at `key` of a run's journal, in one statement.

        Only the given fields change on update; a new record gets status "running",
        attempts 0 and data {} unless given.

        Args:
            run_id: The run.
            key: The step's position, e.g. "a", "loop/3/b"; unique within the run.
            **fields: step_id, iteration, status, result, error, attempts, started_at,
                finished_at, data.

        Inside a worker's run (`Database.holder`), the record is written only if the run
        is still that worker's, in the same statement: a worker that stood still past its
        lease while another finished the step cannot overwrite the finished record.

        Raises:
            NotFound: The run does not exist.
            RunLost: The run is no longer the calling worker's; nothing was written.
        """
        if not fields.keys() <= _STEP_FIELDS:
            check_fields(fields, _STEP_FIELDS, "StepRecord")
        if "status" in fields and not (type(fields["status"]) is str and fields["status"] in _STEP_STATUSES):
            fields["status"] = check_status(fields["status"], StepStatus)
        holder = held_by(self.db, run_id)
        names = tuple(sorted(fields))
        row = {**_STEP_DEFAULTS, **fields, "run_id": run_id, "key": key}
        if holder is not None:
            row["holder"] = holder
        try:
            if self.db.dialect == "sqlite":
                written = sqlite_direct.run(self.db, _step_upsert("sqlite", names, held=holder is not None), row)
            else:
                with self.db.autocommit() as conn:
                    result = conn.execute(_step_upsert(self.db.dialect, names, held=holder is not None), row)
                    written = len(result.all()) if holder is not None else 1
        except IntegrityError as error:
            if not is_foreign_key_violation(error):
                raise
            raise NotFound(f"run {run_id!r} does not exist") from None
        if holder is not None and written == 0:
            raise RunLost(f"run {run_id} is no longer worker {holder}'s: step record {key!r} not written")

    def load_steps(self, run_id: str, *, prefix: str | None = None) -> dict[str, StepRecord]:
        """Every record of a run's journal by key (in key order), or only the records
        whose key starts with `prefix` (e.g. one loop iteration's, "loop/3/")."""
        stmt = _LOAD_STEPS
        if prefix:
            stmt = stmt.where(STEPS.c.key.startswith(prefix, autoescape=True))
        with self.db.autocommit() as conn:
            rows = conn.execute(stmt, {"run_id": run_id})
            return {step.key: step for step in to_models(StepRecord, rows)}

    def load_step(self, run_id: str, key: str) -> StepRecord | None:
        """The record at `key` of a run's journal, or None."""
        stmt = select(STEPS).where(STEPS.c.run_id == run_id, STEPS.c.key == key)
        with self.db.autocommit() as conn:
            rows = to_models(StepRecord, conn.execute(stmt))
        return rows[0] if rows else None

    def delete_steps(
        self,
        run_id: str,
        *,
        keys_prefix: str | None = None,
        keys: Iterable[str] | None = None,
    ) -> int:
        """Delete journal records of a run and return how many went.

        With neither filter every record of the run goes. `keys_prefix` is a plain
        string prefix ("loop/" matches "loop/3/b" but not "loop"); `keys` are exact.
        """
        stmt = delete(STEPS).where(STEPS.c.run_id == run_id)
        if keys_prefix is not None:
            stmt = stmt.where(STEPS.c.key.startswith(keys_prefix, autoescape=True))
        if keys is not None:
            stmt = stmt.where(STEPS.c.key.in_(list(keys)))
        with self.db.autocommit() as conn:
            return conn.execute(stmt).rowcount

    def append_logs(self, run_id: str, step_key: str | None, lines: Sequence[Any]) -> None:
        """Append log lines of a run in one statement.

        NUL characters, which PostgreSQL text cannot hold, become U+FFFD on both
        databases.

        Args:
            run_id: The run.
            step_key: The journal key of the step that logged them; None for the run.
            lines: `(ts, stream, line)` tuples or objects with those attributes
                (such as `engine.runners.LogLine`).

        Raises:
            NotFound: The run does not exist.
        """
        if not lines:
            return
        try:
            self._insert_logs(run_id, step_key, _log_columns(lines))
        except IntegrityError as error:
            if not is_foreign_key_violation(error):
                raise
            raise NotFound(f"run {run_id!r} does not exist") from None

    def _insert_logs(self, run_id: str, step_key: str | None, columns: dict[str, list[Any]]) -> None:
        if self.db.dialect == "postgresql":
            with self.db.autocommit() as conn:
                conn.execute(_PG_APPEND_LOGS, {"run_id": run_id, "step_key": step_key, **columns})
            return
        rows = [
            {"run_id": run_id, "step_key": step_key, "ts": ts, "stream": stream, "line": line}
            for ts, stream, line in zip(columns["ts"], columns["stream"], columns["line"])
        ]
        with self.db.transaction() as conn:
            conn.execute(_INSERT_LOG, rows)

    def get_logs(
        self,
        run_id: str,
        step_key: str | None = None,
        after_id: int = 0,
        limit: int = 1000,
    ) -> list[LogEntry]:
        """Log lines of a run in the order they were appended, after `after_id`.

        Page by passing the last returned line's `id` as the next `after_id`.
        """
        stmt = select(LOGS).where(LOGS.c.run_id == run_id, LOGS.c.id > after_id)
        if step_key is not None:
            stmt = stmt.where(LOGS.c.step_key == step_key)
        stmt = stmt.order_by(LOGS.c.id).limit(limit)
        with self.db.autocommit() as conn:
            return to_models(LogEntry, conn.execute(stmt))


@functools.lru_cache(maxsize=512)
def _step_upsert(dialect: str, fields: tuple[str, ...], *, held: bool = False) -> Any:
    # Building an upsert costs far more than running it; one per field set is reused.
    stmt = dialect_insert(dialect, STEPS)
    guard = None
    if held:
        # INSERT ... SELECT the row's values only where the run is still the holder's.
        guard = exists().where(RUNS.c.id == bindparam("run_id"), RUNS.c.worker_id == bindparam("holder"))
        names = [column.name for column in STEPS.c if column.name in fields or column.name in _KEYED]
        values = [bindparam(name, type_=STEPS.c[name].type) for name in names]
        stmt = stmt.from_select(names, select(*values).where(guard))
    if not fields and not held:
        return stmt.on_conflict_do_nothing(index_elements=["run_id", "key"])
    # Held, a record already there still counts as written (a no-op update) while held.
    # (RETURNING says whether it was: PostgreSQL's driver gives no rowcount for it.)
    changed = fields or ("key",)
    stmt = stmt.on_conflict_do_update(
        index_elements=["run_id", "key"],
        set_={name: stmt.excluded[name] for name in changed},
        where=guard,
    )
    return stmt.returning(STEPS.c.key) if held else stmt


# Built once (every run loads its journal when it starts): see _step_upsert.
_LOAD_STEPS = select(STEPS).where(STEPS.c.run_id == bindparam("run_id")).order_by(STEPS.c.key)
_INSERT_LOG = insert(LOGS)
# One statement whatever the batch size: arrays unnested in order (ids follow it).
_PG_APPEND_LOGS = text(
    "INSERT INTO logs (run_id, step_key, ts, stream, line) "
    "SELECT :run_id, :step_key, t.ts, t.stream, t.line "
    "FROM unnest(CAST(:ts AS double precision[]), CAST(:stream AS text[]), "
    "CAST(:line AS text[])) WITH ORDINALITY AS t(ts, stream, line, n) ORDER BY t.n"
)


def _log_columns(lines: Sequence[Any]) -> dict[str, list[Any]]:
    ts: list[float] = []
    streams: list[str] = []
    texts: list[str] = []
    for item in lines:
        if isinstance(item, tuple):
            when, stream, line = item
        else:
            when, stream, line = item.ts, item.stream, item.line
        ts.append(when)
        streams.append(stream)
        texts.append(line.replace("\x00", "\ufffd") if "\x00" in line else line)
    return {"ts": ts, "stream": streams, "line": texts}
