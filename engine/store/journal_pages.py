"""Reading a long journal a part at a time: records by exact key, pages in key order,
a page of log lines of a few steps, and copying records to another run.

A run with a 1,000,000-iteration loop has millions of step records; whoever reads its
journal (the executor replaying it, a restart, the run page) reads the part it needs.
Reads go through the journal's primary key (run, key) or the logs' (run, step, id)
index, by exact keys rather than key ranges, so they do not depend on how the database
collates text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from sqlalchemy import bindparam, case, func, insert, literal, select

from engine.store import sqlite_direct
from engine.store.base import StoreBase, to_models
from engine.store.tables import LogEntry, StepRecord

STEPS = StepRecord.__table__
LOGS = LogEntry.__table__
CHUNK = 500
"""Keys per statement: well under SQLite's limit of bound parameters."""

_BY_KEYS, _BY_KEYS_NO_RESULTS = (
    select(*columns).where(STEPS.c.run_id == bindparam("run_id"), STEPS.c.key.in_(bindparam("keys", expanding=True)))
    for columns in (list(STEPS.columns), [c for c in STEPS.columns if c.name != "result"])
)


class JournalPagesStore(StoreBase):
    """Partial reads of a run's journal, and copying part of it to another run."""

    def load_steps_at(self, run_id: str, keys: Iterable[str], *, results: bool = True) -> dict[str, StepRecord]:
        """The records at exactly these keys (those that exist), by key; with
        `results=False` their results are left out (None), which saves decoding a long
        loop's array when only statuses are wanted."""
        found: dict[str, StepRecord] = {}
        if self.db.dialect == "sqlite":  # the executor's read, at each run's start: see sqlite_direct
            for chunk in _chunks(keys):
                found.update(sqlite_direct.steps_at(self.db, run_id, chunk, results=results))
            return found
        stmt = _BY_KEYS if results else _BY_KEYS_NO_RESULTS
        with self.db.autocommit() as conn:
            for chunk in _chunks(keys):
                rows = conn.execute(stmt, {"run_id": run_id, "keys": chunk})
                found.update((step.key, step) for step in to_models(StepRecord, rows))
        return found

    def step_keys(self, run_id: str, after_key: str | None = None, limit: int = 1000) -> list[tuple[str, str]]:
        """Up to `limit` (key, status) pairs of a run's records in key order, after
        `after_key` (from the first when None): page through a journal by passing the
        last key returned."""
        stmt = select(STEPS.c.key, STEPS.c.status).where(STEPS.c.run_id == run_id)
        if after_key is not None:
            stmt = stmt.where(STEPS.c.key > after_key)
        stmt = stmt.order_by(STEPS.c.key).limit(limit)
        with self.db.autocommit() as conn:
            return [(key, status) for key, status in conn.execute(stmt)]

    def running_steps(self, run_id: str, prefix: str = "") -> dict[str, StepRecord]:
        """The records of a run still "running" whose key starts with `prefix`, by key.

        One pass over the run's records (there is no index by status): for the rare look
        at what a lost worker left in flight, not for every step.
        """
        stmt = select(STEPS).where(STEPS.c.run_id == run_id, STEPS.c.status == "running")
        if prefix:
            stmt = stmt.where(STEPS.c.key.startswith(prefix, autoescape=True))
        with self.db.autocommit() as conn:
            return {step.key: step for step in to_models(StepRecord, conn.execute(stmt))}

    def load_steps_of(self, run_id: str, step_ids: Iterable[str]) -> dict[str, StepRecord]:
        """Every record of these step ids (each iteration's, inside loops), by key."""
        ids = sorted(set(step_ids))
        if not ids:
            return {}
        stmt = select(STEPS).where(STEPS.c.run_id == run_id, STEPS.c.step_id.in_(ids)).order_by(STEPS.c.key)
        with self.db.autocommit() as conn:
            return {step.key: step for step in to_models(StepRecord, conn.execute(stmt))}

    def get_step_logs(self, run_id: str, keys: Sequence[str | None], per_step: int = 200,
                      skip: Mapping[str | None, int] | None = None) -> list[LogEntry]:
        """Up to `per_step` log lines of each step at `keys` (None: the run's own lines),
        after its first `skip[key]` lines (none skipped by default), plus one more where the
        step has more, so a caller can tell. In order of `keys`, then of appending.

        Each step's lines are read through the (run, step, id) index and no further than
        asked, however many a step logged.
        """
        skip = skip or {}
        steps = [key for key in keys if key is not None]
        entries: list[LogEntry] = []
        with self.db.autocommit() as conn:
            if None in keys:
                entries += to_models(LogEntry, conn.execute(_RUN_LOGS, {"run_id": run_id, "limit": per_step + 1,
                                                                        "skip": max(skip.get(None, 0), 0)}))
            for chunk in _chunks(steps):
                entries += self._step_lines(conn, run_id, chunk, per_step, skip)
        order = {key: at for at, key in enumerate(keys)}
        return sorted(entries, key=lambda entry: (order[entry.step_key], entry.id))

    @staticmethod
    def _step_lines(conn: Any, run_id: str, keys: list[str], per_step: int,
                    skip: Mapping[str | None, int]) -> list[LogEntry]:
        """The lines of several steps in one statement: a page reading fifty steps makes
        one round trip, not fifty (each costs a turn of the GIL while flows run)."""
        numbered = (select(LOGS, func.row_number().over(partition_by=LOGS.c.step_key, order_by=LOGS.c.id)
                           .label("n"))
                    .where(LOGS.c.run_id == run_id, LOGS.c.step_key.in_(keys)).subquery())
        first = case({key: max(skip.get(key, 0), 0) for key in keys if skip.get(key)}, value=numbered.c.step_key,
                     else_=0) if any(skip.get(key) for key in keys) else literal(0)
        stmt = (select(*[numbered.c[column.name] for column in LOGS.columns])
                .where(numbered.c.n > first, numbered.c.n <= first + per_step + 1))
        return to_models(LogEntry, conn.execute(stmt))

    def copy_steps(self, from_run: str, to_run: str, keys: Iterable[str]) -> None:
        """Copy the records at `keys` of run `from_run`, with their log lines, into run
        `to_run` (which has no records at those keys yet), in one transaction."""
        record_columns = [c.name for c in STEPS.columns if c.name != "run_id"]
        with self.db.transaction() as conn:
            for chunk in _chunks(keys):
                source = (select(literal(to_run), *[STEPS.c[name] for name in record_columns])
                          .where(STEPS.c.run_id == from_run, STEPS.c.key.in_(chunk)))
                conn.execute(insert(STEPS).from_select(["run_id", *record_columns], source))
                lines = (select(literal(to_run), LOGS.c.step_key, LOGS.c.ts, LOGS.c.stream, LOGS.c.line)
                         .where(LOGS.c.run_id == from_run, LOGS.c.step_key.in_(chunk)).order_by(LOGS.c.id))
                conn.execute(insert(LOGS).from_select(["run_id", "step_key", "ts", "stream", "line"], lines))


# Built once and bound per call: a run page asks for lines at every refresh.
_RUN_LOGS = (select(LOGS).where(LOGS.c.run_id == bindparam("run_id"), LOGS.c.step_key.is_(None))
             .order_by(LOGS.c.id).offset(bindparam("skip")).limit(bindparam("limit")))


def _chunks(keys: Iterable[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    for key in keys:
        chunk.append(key)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
