"""The store's hottest statements on SQLite, sent straight to the driver: the upsert of
a step record (twice a script step), the read of records by exact key (each run's
start, each page of loop iterations) and a run's end.

Through SQLAlchemy's execution path each cost several times the statement itself. The
SQL is the one SQLAlchemy compiles for the same statement, values are encoded and
decoded as its JSON type does (JSON text in; numbers, which the column's affinity
stores as such, come back as they are), and driver errors come out as SQLAlchemy's.
Each thread uses a connection of its own (engine/store/thread_connections.py); an
in-memory database, the pool's one connection.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any, Callable

from sqlalchemy import JSON
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import DBAPIError

from engine.store.base import from_values
from engine.store.tables import StepRecord

STEPS = StepRecord.__table__
JSON_FIELDS = frozenset(name for name, column in STEPS.c.items() if isinstance(column.type, JSON))
_COLUMNS = tuple(STEPS.c.keys())


def execute(db: Any, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run one statement (autocommitted) and return its rows."""
    return _run(db, sql, params, lambda cursor: cursor.fetchall())


def changed(db: Any, sql: str, params: Sequence[Any]) -> int:
    """Run one statement (autocommitted) and return how many rows it changed."""
    return _run(db, sql, params, lambda cursor: cursor.rowcount)


def finish_run(db: Any, run_id: str, fields: dict[str, Any], *, holder: str | None = None) -> bool:
    """Set a live run's end (status, result, error, finished_at); False when no run
    that is not canceled has this id (held by `holder`, when given)."""
    sql = ("UPDATE runs SET status = ?, result = ?, error = ?, finished_at = ? "
           "WHERE runs.id = ? AND runs.status != 'canceled'")
    params = [fields["status"], _json(fields["result"]), _json(fields["error"]), fields["finished_at"], run_id]
    if holder is not None:
        sql, params = sql + " AND runs.worker_id = ?", [*params, holder]
    return changed(db, sql, params) > 0


def _run(db: Any, sql: str, params: Sequence[Any], read: Callable[[sqlite3.Cursor], Any]) -> Any:
    with _driver(db) as driver:
        try:
            return read(driver.execute(sql, params))
        except sqlite3.Error as error:
            raise DBAPIError.instance(sql, params, error, sqlite3.Error) from None


def save_step(db: Any, upsert: Callable[..., Any], fields: tuple[str, ...], row: dict[str, Any], *,
              held: bool = False) -> int:
    """Upsert a step record: `upsert(dialect, fields, held=held)` builds the statement
    that updates `fields`; `row` holds every column its insert names (and `holder`, when
    held). Returns the rows it returned: held, 1 when written, 0 when the run was not the
    holder's."""
    sql, order = _upsert_sql(upsert, fields, tuple(sorted(row)), held)
    return len(execute(db, sql, [_json(row[name]) if name in JSON_FIELDS else row[name] for name in order]))


def steps_at(db: Any, run_id: str, keys: list[str], *, results: bool) -> dict[str, StepRecord]:
    """The records of a run at these keys (those that exist), by key; without `results`,
    their results are left out."""
    columns = _COLUMNS if results else tuple(name for name in _COLUMNS if name != "result")
    found: dict[str, StepRecord] = {}
    for values in execute(db, _select_sql(columns, len(keys)), [run_id, *keys]):
        record = {name: _decoded(value) if name in JSON_FIELDS else value for name, value in zip(columns, values)}
        found[record["key"]] = from_values(StepRecord, record)
    return found


@contextlib.contextmanager
def _driver(db: Any) -> Iterator[sqlite3.Connection]:
    if db.thread_connections is not None:
        yield db.thread_connections.get()
        return
    pooled = db.engine.raw_connection()  # in memory: the one shared connection
    try:
        yield pooled.driver_connection
    finally:
        pooled.close()


def _json(value: Any) -> str:
    return "null" if value is None else json.dumps(value)


def _decoded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@functools.lru_cache(maxsize=512)
def _upsert_sql(upsert: Callable[..., Any], fields: tuple[str, ...], columns: tuple[str, ...],
                held: bool) -> tuple[str, tuple[str, ...]]:
    """The SQL SQLAlchemy compiles for this upsert, and its parameters' order."""
    compiled = upsert("sqlite", fields, held=held).compile(dialect=sqlite_dialect.dialect(),
                                                           column_keys=list(columns))
    return compiled.string, tuple(compiled.positiontup)


@functools.lru_cache(maxsize=64)
def _select_sql(columns: tuple[str, ...], count: int) -> str:
    names = ", ".join(f'"{name}"' for name in columns)
    return f'SELECT {names} FROM steps WHERE run_id = ? AND "key" IN ({", ".join("?" * count)})'
