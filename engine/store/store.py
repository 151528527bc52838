"""The Store: one object over runs, the step journal, logs, the catalog and the queue."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from engine.clock import Clock
from engine.store.catalog import CatalogStore
from engine.store.db import Database, resolve_url
from engine.store.journal import JournalStore
from engine.store.journal_pages import JournalPagesStore
from engine.store.queue import QueueStore
from engine.store.resources import ResourceStore
from engine.store.retry import retry_public_methods
from engine.store.runs import RunStore
from engine.store.schedules import ScheduleStore
from engine.store.schema import migrate

if TYPE_CHECKING:
    from sqlmodel import Session

T = TypeVar("T")


@retry_public_methods
class Store(RunStore, JournalStore, JournalPagesStore, CatalogStore, QueueStore, ScheduleStore, ResourceStore):
    """Everything the engine remembers, on SQLite or PostgreSQL.

    Every method is synchronous and runs one short transaction; objects returned are
    plain model instances, safe to keep after the call. On PostgreSQL a call made
    while the server is away is retried as a whole (engine/store/retry.py).
    """

    def __init__(self, db: Database, clock: Clock | None = None):
        self.db = db
        self.clock = clock or Clock()

    @classmethod
    def open(
        cls, url: str | os.PathLike[str] | None = None, *, clock: Clock | None = None
    ) -> Store:
        """Connect, and bring the schema to the newest version (`migrate`).

        Args:
            url: A database URL or SQLite file path; None uses `DATABASE_URL`, else
                SQLite at `data/millrace.db` under the current directory.
            clock: Where "now" comes from when a call is not told; real time by default.
        """
        store = cls(Database(resolve_url(url)), clock)
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
        return store

    @property
    def url(self) -> str:
        """The SQLAlchemy URL in use."""
        return self.db.url

    @property
    def dialect(self) -> str:
        """"sqlite" or "postgresql"."""
        return self.db.dialect

    def migrate(self) -> None:
        """Apply the schema migrations the database lacks, once however many processes
        start together (engine/store/schema.py); `open` calls it.

        Raises:
            SchemaVersionError: a newer Millrace upgraded the database.
        """
        migrate(self.db)

    def transact(self, work: Callable[[Session], T], *, read_only: bool = False) -> T:
        """`work(session)` in one transaction on the store's database; what it returns.

        For the app's own tables (app/services/models.py): they share the store's connection pool
        and, as every Store call, a call is retried as a whole while PostgreSQL is away,
        so `work` must do nothing but database work. Committed when `work` returns,
        rolled back when it raises; objects it returns stay readable.

        Args:
            read_only: for work that only reads: no transaction, no write lock (see
                `Database.session`).
        """
        with self.db.session(read_only=read_only) as session:
            return work(session)

    def close(self) -> None:
        """Release every connection."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
