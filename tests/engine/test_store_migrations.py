"""Schema migrations: what they make equals the models, old databases are adopted, and
processes starting together migrate once, on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import MetaData, inspect, text
from sqlmodel import SQLModel

from engine import Store
from engine.errors import SchemaVersionError
from engine.store import schema
from engine.store.db import lock_key
from engine.store.records import METADATA
from tests.pg import pg_url  # noqa: F401  (pytest fixture)
from tests.store_fixtures import empty_url  # noqa: F401  (pytest fixture)

ROOT = Path(__file__).resolve().parents[2]


def test_head_is_the_newest_revision_and_each_file_is_named_after_its_revision() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(schema.MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    assert scripts.get_current_head() == schema.HEAD
    named = {Path(script.path).name.split("_", 1)[0]: script.revision for script in scripts.walk_revisions()}
    assert named == {revision: revision for revision in schema.known_revisions()}


def test_a_migrated_database_has_exactly_the_tables_the_models_describe(empty_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import app.services.models  # noqa: F401  (the app's tables live in the same database)

    described = MetaData()
    for table in (*METADATA.tables.values(), *SQLModel.metadata.tables.values()):
        table.to_metadata(described)
    with Store.open(empty_url) as store, store.db.autocommit() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), described)
        assert schema.revision(conn) == schema.HEAD
    assert differences == [], "a model changed without a migration (engine/store/migrations/versions/)"


def test_a_database_made_before_migrations_is_brought_up_to_date_with_its_rows(empty_url: str) -> None:
    with Store.open(empty_url) as store:
        run = store.create_run(kind="flow", path="f/x/old")
        _as_the_first_releases_left_it(store)
    with Store.open(empty_url) as store, store.db.autocommit() as conn:
        assert schema.revision(conn) == schema.HEAD
        assert store.get_run(run.id) == run
        found = inspect(conn)
        indexes = {index["name"] for index in found.get_indexes("runs")}
        assert "ix_runs_queue" in indexes and "ix_runs_claim" not in indexes
        assert "prefix" in {column["name"] for column in found.get_columns("app_tokens")}
        assert found.has_table("app_sessions")
        assert conn.execute(text("SELECT prefix FROM app_tokens WHERE token_hash = 'h'")).scalar() == ""


def _as_the_first_releases_left_it(store: Store) -> None:
    """No schema version, the old queue index, tokens without a prefix, no sessions table."""
    with store.db.transaction() as conn:
        for statement in ("DROP TABLE alembic_version", "DROP INDEX ix_runs_queue",
                          "CREATE INDEX ix_runs_claim ON runs (status, scheduled_for)",
                          "ALTER TABLE app_tokens DROP COLUMN prefix", "ALTER TABLE schedules DROP COLUMN error",
                          'ALTER TABLE script_versions DROP COLUMN "lock"',
                          "ALTER TABLE script_versions DROP COLUMN dedicated_worker",
                          "DROP TABLE app_sessions",
                          "INSERT INTO app_tokens (token_hash, label, owner, is_admin, created_at) "
                          "VALUES ('h', 'old', 'admin', true, 0)"):
            conn.exec_driver_sql(statement)


def test_a_database_a_newer_release_upgraded_is_refused_with_what_to_do(empty_url: str) -> None:
    with Store.open(empty_url) as store, store.db.transaction() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0999'")
    with pytest.raises(SchemaVersionError, match=r"revision '0999', which this Millrace does not know "
                                                 r"\(it knows up to '\d+'\).*restore the backup"):
        Store.open(empty_url)


def test_opening_an_up_to_date_database_takes_no_lock(empty_url: str) -> None:
    Store.open(empty_url).close()
    with _schema_lock_held(empty_url):
        started = time.monotonic()
        Store.open(empty_url).close()
        assert time.monotonic() - started < 2.0


@contextlib.contextmanager
def _schema_lock_held(url: str) -> Iterator[None]:
    """Hold, from another connection, the lock a migration takes."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")  # the write lock, which a migration on SQLite takes
    else:
        conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        conn.execute(f"SELECT pg_advisory_xact_lock({lock_key(schema.LOCK)})")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


STARTER = """
import logging, os, sys, time
logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
from engine import Store
open(sys.argv[2] + ".ready", "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.002)
Store.open(sys.argv[1]).close()
"""


def test_processes_starting_together_on_an_empty_database_migrate_it_once(empty_url: str, tmp_path: Path) -> None:
    go, count = tmp_path / "go", 3
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    starts = [subprocess.Popen([sys.executable, "-c", STARTER, empty_url, str(tmp_path / str(i)), str(go)],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for i in range(count)]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"{i}.ready").exists() for i in range(count)):
        assert time.monotonic() < deadline and all(p.poll() is None for p in starts), "a process did not start"
        time.sleep(0.01)
    go.touch()
    outputs = [proc.communicate(timeout=120) for proc in starts]
    assert [proc.returncode for proc in starts] == [0] * count, [err[-2000:] for _, err in outputs]
    logs = "".join(err for _, err in outputs)
    assert logs.count("database schema upgraded from no version to") == 1, logs
    with Store.open(empty_url) as store, store.db.autocommit() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert schema.revision(conn) == schema.HEAD


HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("CREATE TABLE first_writer (x)")
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO first_writer VALUES (1)")
print("holding", flush=True)
time.sleep(1.5)
conn.execute("COMMIT")
"""


def test_a_store_opened_while_another_process_writes_a_new_database_waits_to_make_it_wal(tmp_path: Path) -> None:
    # A new file is not in WAL mode yet; switching needs it alone, and SQLite refuses the
    # switch at once (no busy wait) while another process holds its write lock.
    path = tmp_path / "new.db"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "holding\n"
        started = time.monotonic()
        with Store.open(f"sqlite:///{path}") as store, store.db.autocommit() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert time.monotonic() - started >= 1.0  # it waited for the holder's commit
    finally:
        holder.communicate(timeout=30)
    assert holder.returncode == 0
