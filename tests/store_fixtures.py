"""The `store` fixture: an empty Store on SQLite and on PostgreSQL, with a fake clock;
and `empty_url`: an empty database of the test's own on each, not even migrated.

Test modules import them together with the PostgreSQL fixtures they rely on::

    from tests.pg import pg_database, pg_url  # noqa: F401
    from tests.store_fixtures import store  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.clock import FakeClock
from engine.store import Store
from engine.store.tables import TABLES
from tests import pg

BACKENDS = ["sqlite", "postgresql"]


def open_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """An empty Store on `backend` ("sqlite" in tmp_path, or the module's PG database)."""
    clock = FakeClock()
    if backend == "sqlite":
        return Store.open(tmp_path / "millrace.db", clock=clock)
    store = Store.open(request.getfixturevalue("pg_database"), clock=clock)
    # The module shares one database; each test starts from empty tables.
    names = ", ".join(table.name for table in TABLES)
    with store.db.transaction() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty Store whose clock is a FakeClock, once per backend."""
    opened = open_store(request.param, request, tmp_path)
    yield opened
    opened.close()


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of the test's own, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'millrace.db'}"
        return
    request.getfixturevalue("pg_url")
    name, url = pg.fresh_database("empty")
    yield url
    pg.shared_cluster().drop_database(name)
