"""A SQLite connection of each thread's own, outside the pool, for the statement sent most.

The journal's upsert runs twice a step; through the pool, checking a connection out and
in again cost as much as the statement itself. Each thread that sends it keeps one
connection to the file (with the pool's pragmas), closed when the database closes or
when the thread is gone.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from typing import Any, Callable


class ThreadConnections:
    """Connections to one SQLite file, one per thread.

    Args:
        engine: the SQLAlchemy engine whose URL and driver they use.
        on_connect: sets a new connection up as the pool's are (autocommit, pragmas).
    """

    def __init__(self, engine: Any, on_connect: Callable[[Any, Any], None]):
        self._engine, self._on_connect = engine, on_connect
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: set[sqlite3.Connection] = set()
        self._generation = 0

    def get(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use (again after `close`)."""
        local = self._local
        if getattr(local, "generation", None) != self._generation:
            local.connection, local.generation = self._connect(), self._generation
        return local.connection

    @property
    def open_count(self) -> int:
        """How many are open now."""
        return len(self._open)

    def close(self) -> None:
        """Close every one; threads open new ones if they send more."""
        with self._lock:
            connections, self._open = self._open, set()
            self._generation += 1
        for connection in connections:
            connection.close()

    def _connect(self) -> sqlite3.Connection:
        args, options = self._engine.dialect.create_connect_args(self._engine.url)
        connection = self._engine.dialect.loaded_dbapi.connect(*args, **{**options, "check_same_thread": False})
        self._on_connect(connection, None)
        with self._lock:
            self._open.add(connection)
        weakref.finalize(threading.current_thread(), self._forget, connection)
        return connection

    def _forget(self, connection: sqlite3.Connection) -> None:
        # The thread is gone: nobody else uses its connection.
        with self._lock:
            if connection not in self._open:
                return
            self._open.discard(connection)
        connection.close()
