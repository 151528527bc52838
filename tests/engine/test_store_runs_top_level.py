"""Listing only top-level runs: subflow runs have a parent and are left out."""

from __future__ import annotations

from engine.store import Store
from tests.pg import pg_database, pg_url  # noqa: F401
from tests.store_fixtures import store  # noqa: F401


def test_top_level_filter_leaves_subflow_runs_out(store: Store) -> None:
    parent = store.create_run(kind="flow", path="f/p", status="success")
    store.create_run(kind="flow", path="f/child", status="success", parent_run_id=parent.id)
    assert {run.path for run in store.list_runs()} == {"f/p", "f/child"}
    assert [run.path for run in store.list_runs(top_level=True)] == ["f/p"]
    assert store.count_runs(top_level=True) == 1 and store.count_runs() == 2
