"""The schema's version: Alembic migrations (engine/store/migrations/) applied at start.

Every process that opens the store (the app, `python -m engine worker`, the CLI) brings
the database to `HEAD` before using it. Processes starting together migrate once: the
upgrade runs in one transaction that first takes a lock (PostgreSQL: an advisory lock;
SQLite: the write lock), and whoever gets it second finds the database at HEAD and does
nothing. A database made before migrations existed (tables from `create_all`, no
`alembic_version` table) is at no revision: revision 0001 takes it, as it takes an empty
one, to the baseline without touching a row. Migrations go forward only; going back
means restoring the backup taken before the upgrade.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Connection, inspect

from engine.errors import SchemaVersionError
from engine.store.db import Database

log = logging.getLogger("millrace.store")

HEAD = "0004"
"""The newest revision (tests/engine/test_store_migrations.py checks it against the files)."""
MIGRATIONS = Path(__file__).with_name("migrations")
LOCK = "millrace-schema"
MIGRATION_WAIT_SECONDS = 600.0
"""How long a process waits for another one's migration (on SQLite; PostgreSQL waits on)."""


def migrate(db: Database) -> None:
    """Bring the database's schema to HEAD; no lock is taken when it is there already.

    Raises:
        SchemaVersionError: a newer Millrace migrated the database (its revision is unknown here).
    """
    with db.autocommit() as conn:
        if revision(conn) == HEAD:
            return
    with db.locked_transaction(LOCK, wait=MIGRATION_WAIT_SECONDS) as conn:
        found = revision(conn)
        if found == HEAD:
            return
        _upgrade(conn, found)
    log.info("database schema upgraded from %s to %s", found or "no version", HEAD)


def revision(conn: Connection) -> str | None:
    """The database's schema revision; None for an empty database or one made before migrations."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def known_revisions() -> set[str]:
    """The revisions of this Millrace: a migration file is named after its revision."""
    return {file.name.split("_", 1)[0] for file in (MIGRATIONS / "versions").glob("*.py")}


def _upgrade(conn: Connection, found: str | None) -> None:
    from alembic import command
    from alembic.config import Config

    if found is not None and found not in known_revisions():
        raise SchemaVersionError(
            f"the database's schema is at revision {found!r}, which this Millrace does not know "
            f"(it knows up to {HEAD!r}): a newer release upgraded it. Run that release, or restore "
            f"the backup taken before the upgrade.")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    command.upgrade(config, HEAD)
