"""The store's hottest statements on SQLite, sent straight to the driver: the upsert of
a step record (twice a script step), the read of records by exact key (each run's
start, each page of loop iterations) and a run's end.

Through SQLAlchemy's execution path each cost several times the statement itself. The
SQL is the one SQLAlchemy compiles for the same statement (compiled once), values are encoded and
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
_COLUMNS = tuple(STEPS.c.keys())


def execute(db: Any, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run one statement (autocommitted) and return its rows."""
    return _run(db, sql, params, lambda cursor: cursor.fetchall())


def changed(db: Any, sql: str, params: Sequence[Any]) -> int:
    """Run one statement (autocommitted) and return how many rows it changed."""
    return _run(db, sql, params, lambda cursor: cursor.rowcount)


def run(db: Any, statement: Any, values: dict[str, Any]) -> int:
    """Run a SQLAlchemy UPDATE or INSERT (autocommitted) as SQLite runs it, with these
    values for its parameters; how many rows it changed, or returned when it has RETURNING."""
    sql, order, fixed, returns = _compiled(statement, tuple(sorted(values)))
    json_fields = _json_fields(statement.table)
    params = [_json(values[name]) if name in json_fields else values[name] if name in values else fixed[name]
              for name in order]
    return len(execute(db, sql, params)) if returns else changed(db, sql, params)


def _run(db: Any, sql: str, params: Sequence[Any], read: Callable[[sqlite3.Cursor], Any]) -> Any:
    with _driver(db) as driver:
        try:
            return read(driver.execute(sql, params))
        except sqlite3.Error as error:
            raise DBAPIError.instance(sql, params, error, sqlite3.Error) from None


def steps_at(db: Any, run_id: str, keys: list[str], *, results: bool) -> dict[str, StepRecord]:
    """The records of a run at these keys (those that exist), by key; without `results`,
    their results are left out."""
    columns = _COLUMNS if results else tuple(name for name in _COLUMNS if name != "result")
    json_fields = _json_fields(STEPS)
    found: dict[str, StepRecord] = {}
    for values in execute(db, _select_sql(columns, len(keys)), [run_id, *keys]):
        record = {name: _decoded(value) if name in json_fields else value for name, value in zip(columns, values)}
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
def _compiled(statement: Any, columns: tuple[str, ...]) -> tuple[str, tuple[str, ...], dict[str, Any], bool]:
    """The SQL SQLAlchemy compiles for this statement given these columns' values, its
    parameters' order, the values of the parameters the statement fixes itself, and
    whether it returns rows."""
    compiled = statement.compile(dialect=sqlite_dialect.dialect(), column_keys=list(columns))
    return compiled.string, tuple(compiled.positiontup), dict(compiled.params), bool(compiled.effective_returning)


@functools.lru_cache(maxsize=16)
def _json_fields(table: Any) -> frozenset[str]:
    return frozenset(name for name, column in table.c.items() if isinstance(column.type, JSON))


@functools.lru_cache(maxsize=64)
def _select_sql(columns: tuple[str, ...], count: int) -> str:
    names = ", ".join(f'"{name}"' for name in columns)
    return f'SELECT {names} FROM steps WHERE run_id = ? AND "key" IN ({", ".join("?" * count)})'
