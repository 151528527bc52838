"""Database connection: URL resolution, engine creation, SQLite pragmas, transactions.

Two ways to talk to the database. `autocommit()` runs each statement as its own
transaction: one round trip on PostgreSQL instead of three (BEGIN, statement, COMMIT),
which is what keeps a single upsert or claim fast; every statement the store sends
that way is atomic on its own. `transaction()` groups statements; on SQLite it starts
with `BEGIN IMMEDIATE`, taking the write lock up front so `busy_timeout` can wait for
it, where a deferred transaction that read first would fail at once with "database is
locked" when it tries to write.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from engine.store.retry import default_retry_seconds
from engine.store.thread_connections import ThreadConnections

if TYPE_CHECKING:  # the ORM is for the app's tables; the engine's own need only Core
    from sqlmodel import Session

DEFAULT_SQLITE_PATH = Path("data") / "millrace.db"
SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_WAL_SWITCH_WAIT = 120.0
"""Seconds a connection's switch of a new database to WAL keeps trying: it needs the
file alone, another process may hold its write lock for a whole first migration, and
SQLite refuses the switch at once then (no busy wait, which could deadlock)."""
CONNECT_TIMEOUT = 10
_AUTOCOMMIT = "millrace_autocommit"


def resolve_url(url: str | os.PathLike[str] | None = None) -> str:
    """The SQLAlchemy URL to use.

    Args:
        url: A database URL, a SQLite file path, or None for `DATABASE_URL` from the
            environment, else `data/millrace.db` under the current directory.

    Returns:
        A URL with a driver: `postgresql://` and `postgres://` become
        `postgresql+psycopg://`; a SQLite file's folder is created.
    """
    text = os.fspath(url) if url is not None else os.environ.get("DATABASE_URL", "")
    if not text:
        text = str(DEFAULT_SQLITE_PATH)
    if "://" not in text:
        path = Path(text).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    for scheme in ("postgresql://", "postgres://"):
        if text.startswith(scheme):
            return "postgresql+psycopg://" + text[len(scheme):]
    parsed = make_url(text)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return text


class Database:
    """An engine plus the transaction discipline every store call follows.

    Args:
        url: The SQLAlchemy URL.
        retry_for: How long a Store call keeps retrying while PostgreSQL is away (see
            engine/store/retry.py); default MILLRACE_DB_RETRY_SECONDS, else 30. SQLite: 0.
    """

    def __init__(self, url: str, *, retry_for: float | None = None):
        self.url = url
        self.engine = _make_engine(url)
        self.dialect: str = self.engine.dialect.name
        if self.dialect == "sqlite":
            self.retry_for = 0.0
        else:
            self.retry_for = default_retry_seconds() if retry_for is None else retry_for
        self.gave_up = False
        """Whether the last call out of retries failed (later ones try once until one succeeds)."""
        self.fence: Callable[[], None] | None = None
        """Called before every attempt of a Store call; raising refuses the call."""
        self.holder: Callable[[], tuple[str, str] | None] | None = None
        """(run id, worker id) when the current call is a worker's, for the run it holds:
        that run's journal records and status change only while the run is still that
        worker's, checked in the writing statement itself (the fence checks before the
        call, so a worker stopped between the two could otherwise write afterwards)."""
        if self.dialect == "sqlite":
            # The driver already autocommits (see _on_sqlite_connect); skip the BEGIN.
            self._autocommit = self.engine.execution_options(**{_AUTOCOMMIT: True})
        else:
            self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.thread_connections: ThreadConnections | None = None
        """SQLite files: a driver connection per thread (engine/store/thread_connections.py)."""
        if self.dialect == "sqlite" and not isinstance(self.engine.pool, StaticPool):
            self.thread_connections = ThreadConnections(self.engine, _on_sqlite_connect)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A transaction that commits on success (write-locked up front on SQLite)."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A connection on which every statement commits on its own."""
        with self._autocommit.connect() as conn:
            yield conn

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold the lock called `name` across processes for the block: a PostgreSQL
        advisory lock (e.g. so app instances starting together on an empty database
        bootstrap it once). SQLite: no lock (one process serves a SQLite file)."""
        if self.dialect != "postgresql":
            yield
            return
        with self._autocommit.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({lock_key(name)})")
            try:
                yield
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({lock_key(name)})")

    @contextmanager
    def locked_transaction(self, name: str, *, wait: float) -> Iterator[Connection]:
        """A transaction that first takes the lock called `name`, held until it ends.

        PostgreSQL: a transaction-level advisory lock. SQLite: the database's write lock
        (`BEGIN IMMEDIATE`), which every writer of the file shares; waited for up to
        `wait` seconds instead of the usual busy timeout.
        """
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                _set_busy_timeout(conn, int(wait * 1000))
            try:
                with conn.begin():
                    if self.dialect == "postgresql":
                        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({lock_key(name)})")
                    yield conn
            finally:
                if self.dialect == "sqlite":
                    _set_busy_timeout(conn, SQLITE_BUSY_TIMEOUT_MS)

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """An ORM session on this database's pool, committed when the block ends.

        Args:
            read_only: each statement runs on its own, outside a transaction (on SQLite
                no write lock is taken; on PostgreSQL no BEGIN and COMMIT round trips).
        """
        from sqlmodel import Session

        with Session(self._autocommit if read_only else self.engine, expire_on_commit=False) as session:
            yield session
            session.commit()

    def insert(self, table: Table) -> Any:
        """A dialect-specific INSERT that supports `on_conflict_do_update`."""
        return dialect_insert(self.dialect, table)

    def close(self) -> None:
        """Close every connection, pooled or a thread's own."""
        if self.thread_connections is not None:
            self.thread_connections.close()
        self.engine.dispose()


def lock_key(name: str) -> int:
    """The 64-bit PostgreSQL advisory lock key of a lock name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def dialect_insert(dialect: str, table: Table) -> Any:
    """An INSERT for `dialect` ("sqlite" or "postgresql") with ON CONFLICT support."""
    # The dialect module is the one the engine already loaded: PostgreSQL's costs an
    # SQLite process (the CLI) tens of milliseconds to import.
    module = importlib.import_module(f"sqlalchemy.dialects.{'postgresql' if dialect == 'postgresql' else 'sqlite'}")
    return module.insert(table)


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # Pre-ping: after a server restart every pooled connection is dead; test each
        # on checkout instead of failing the first statement sent on it. A bounded
        # connect timeout: an unreachable host must not hold a call for minutes.
        connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT}
        return create_engine(url, pool_size=5, max_overflow=20, pool_pre_ping=True, connect_args=connect_args)
    if parsed.database in (None, "", ":memory:"):
        # One shared connection, so every caller sees the same in-memory database.
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, poolclass=StaticPool
        )
    else:
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, pool_size=5, max_overflow=20
        )
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy's "begin" event instead of the driver.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    # A no-op once the file is in WAL mode, which every file the store made is.
    deadline = time.monotonic() + SQLITE_WAL_SWITCH_WAIT
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _set_busy_timeout(conn: Connection, milliseconds: int) -> None:
    # Straight to the driver: through SQLAlchemy the statement would begin a transaction.
    conn.connection.driver_connection.execute(f"PRAGMA busy_timeout={milliseconds}")


def _on_sqlite_begin(conn: Connection) -> None:
    if not conn.get_execution_options().get(_AUTOCOMMIT, False):
        # Straight to the driver: a full SQLAlchemy execution would double the cost.
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE")


def held_by(db: Database, run_id: str) -> str | None:
    """The worker that must still hold `run_id` for the current call's write to land,
    or None when the call is not that run's worker's (see Database.holder)."""
    held = db.holder() if db.holder is not None else None
    return held[1] if held is not None and held[0] == run_id else None
