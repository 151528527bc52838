from __future__ import annotations

from pathlib import Path

import pytest
from engine.store import Store, resolve_url
from tests import pg
from tests.pg import pg_database, pg_url  # noqa: F401
from tests.store_fixtures import store  # noqa: F401


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/mill", "postgresql+psycopg://u:p@db:5432/mill"),
        ("postgres://u@db/mill", "postgresql+psycopg://u@db/mill"),
        ("postgresql+psycopg://u@db/mill", "postgresql+psycopg://u@db/mill"),
        ("sqlite://", "sqlite://"),
    ],
)
def test_urls_get_the_psycopg_driver(given: str, expected: str) -> None:
    assert resolve_url(given) == expected


def test_default_is_sqlite_under_data_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with Store.open() as opened:
        assert opened.url == f"sqlite:///{tmp_path / 'data' / 'millrace.db'}"
        opened.create_run(kind="flow", path="f/x")
    assert (tmp_path / "data" / "millrace.db").is_file()


def test_database_url_from_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/elsewhere/x.db")
    with Store.open() as opened:
        assert opened.dialect == "sqlite"
    assert (tmp_path / "elsewhere" / "x.db").is_file()
    assert not (tmp_path / "data").exists()


def test_sqlite_connections_use_wal_and_wait_for_locks(tmp_path: Path) -> None:
    with Store.open(tmp_path / "m.db") as opened, opened.db.autocommit() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        }
    assert pragmas == {"journal_mode": "wal", "synchronous": 1, "busy_timeout": 5000, "foreign_keys": 1}


def test_in_memory_sqlite_works_for_quick_use() -> None:
    with Store.open("sqlite://") as opened:
        run = opened.create_run(kind="flow", path="f/x")
        opened.save_step(run.id, "a", status="success")
        assert list(opened.load_steps(run.id)) == ["a"]


def test_reopening_keeps_data_and_migrating_again_is_harmless(store: Store) -> None:
    run = store.create_run(kind="flow", path="f/x")
    store.migrate()
    with Store.open(store.url) as again:
        assert again.get_run(run.id) == run


def test_missing_postgres_binaries_fail_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(pg, "INSTALL_GLOB", str(tmp_path / "lib" / "*" / "bin"))
    with pytest.raises(pg.PostgresUnavailable, match="apt-get install postgresql.*MILLRACE_SKIP_PG"):
        pg.find_bin_dir()


def test_postgres_binaries_are_found_in_the_newest_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for version in ("9", "16", "15"):
        folder = tmp_path / "lib" / version / "bin"
        folder.mkdir(parents=True)
        for tool in ("initdb", "pg_ctl", "postgres"):
            (folder / tool).touch()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(pg, "INSTALL_GLOB", str(tmp_path / "lib" / "*" / "bin"))
    assert pg.find_bin_dir() == tmp_path / "lib" / "16" / "bin"

