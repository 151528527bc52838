from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from engine.errors import NotFound
from engine.store import Store
from tests.pg import pg_database, pg_url  # noqa: F401
from tests.store_fixtures import store  # noqa: F401


def _doc(n: int) -> dict:
    return {"summary": f"v{n}", "value": {"modules": [{"id": "a", "value": {"type": "identity"}}] * n}}


def test_each_flow_save_is_a_new_version(store: Store) -> None:
    assert store.save_flow("f/x/flow", _doc(1), "first", created_by="ann") == 1
    store.clock.advance(1)
    assert store.save_flow("f/x/flow", _doc(2), "second") == 2
    latest = store.get_flow("f/x/flow")
    assert latest is not None
    assert (latest.version, latest.summary, latest.document) == (2, "second", _doc(2))
    first = store.get_flow("f/x/flow", version=1)
    assert first is not None
    assert (first.document, first.created_by, first.created_at) == (_doc(1), "ann", 1_700_000_000.0)


def test_flow_versions_are_per_path(store: Store) -> None:
    store.save_flow("f/t/a", _doc(1))
    store.save_flow("f/t/a", _doc(1))
    assert store.save_flow("f/t/b", _doc(1)) == 1
    assert [v.version for v in store.list_flow_versions("f/t/a")] == [2, 1]


def test_missing_flow_or_version_is_none(store: Store) -> None:
    store.save_flow("f/t/a", _doc(1))
    assert store.get_flow("f/t/nope") is None
    assert store.get_flow("f/t/a", version=7) is None


def test_list_flows_shows_latest_versions_by_path(store: Store) -> None:
    store.save_flow("f/t/b", _doc(1), "Billing export")
    store.save_flow("f/t/a", _doc(1), "old")
    store.save_flow("f/t/a", _doc(2), "Alerts")
    listed = store.list_flows()
    assert [(f.path, f.version, f.summary) for f in listed] == [("f/t/a", 2, "Alerts"), ("f/t/b", 1, "Billing export")]


def test_list_flows_searches_path_and_summary_ignoring_case(store: Store) -> None:
    store.save_flow("f/billing/export", _doc(1), "Nightly CSV")
    store.save_flow("f/ops/alerts", _doc(1), "Page on 100% disk")
    store.save_flow("f/ops/other", _doc(1), "Page on 1000 disk")
    assert [f.path for f in store.list_flows("BILLING")] == ["f/billing/export"]
    assert [f.path for f in store.list_flows("csv")] == ["f/billing/export"]
    assert [f.path for f in store.list_flows("100%")] == ["f/ops/alerts"]
    assert store.list_flows("nothing-like-this") == []


def test_delete_flow_removes_every_version(store: Store) -> None:
    store.save_flow("f/t/a", _doc(1))
    store.save_flow("f/t/a", _doc(2))
    assert store.delete_flow("f/t/a") == 2
    assert store.get_flow("f/t/a") is None
    assert store.save_flow("f/t/a", _doc(3)) == 1
    with pytest.raises(NotFound, match="f/t/zz"):
        store.delete_flow("f/t/zz")


def test_workspaces_keep_flows_apart(store: Store) -> None:
    store.save_flow("f/t/a", _doc(1), "main one")
    assert store.save_flow("f/t/a", _doc(2), "team one", workspace="team") == 1
    assert store.get_flow("f/t/a", workspace="team").summary == "team one"  # type: ignore[union-attr]
    assert [f.summary for f in store.list_flows()] == ["main one"]


def test_each_script_save_is_a_new_version(store: Store) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    assert store.save_script("u/me/s", "python3", "def main(n: int):\n    return n\n", schema, "double") == 1
    assert store.save_script("u/me/s", "python3", "def main(n: int):\n    return 2 * n\n") == 2
    latest = store.get_script("u/me/s")
    assert latest is not None
    assert (latest.version, latest.language, latest.args_schema) == (2, "python3", None)
    assert "2 * n" in latest.content
    first = store.get_script("u/me/s", version=1)
    assert first is not None and (first.args_schema, first.summary) == (schema, "double")


def test_a_script_version_keeps_whether_it_runs_dedicated(store: Store) -> None:
    store.save_script("u/me/d", "python3", "def main():\n    return 1\n", dedicated_worker=True)
    store.save_script("u/me/d", "python3", "def main():\n    return 2\n")
    assert store.get_script("u/me/d", version=1).dedicated_worker is True
    assert store.get_script("u/me/d").dedicated_worker is False


def test_list_and_delete_scripts(store: Store) -> None:
    store.save_script("u/me/b", "bash", "echo hi", summary="Say hi")
    store.save_script("u/me/a", "python3", "def main(): pass")
    store.save_script("u/me/a", "python3", "def main(): return 1", summary="One")
    assert [(s.path, s.version) for s in store.list_scripts()] == [("u/me/a", 2), ("u/me/b", 1)]
    assert [s.path for s in store.list_scripts("say")] == ["u/me/b"]
    assert [s.version for s in store.list_script_versions("u/me/a")] == [2, 1]
    assert store.delete_script("u/me/a") == 2
    assert store.get_script("u/me/a") is None
    with pytest.raises(NotFound):
        store.delete_script("u/me/a")


def test_concurrent_saves_of_one_path_get_distinct_versions(store: Store) -> None:
    def save_ten() -> list[int]:
        return [store.save_flow("f/t/busy", _doc(1)) for _ in range(10)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        versions = [v for batch in pool.map(lambda _: save_ten(), range(4)) for v in batch]
    assert sorted(versions) == list(range(1, 41))
