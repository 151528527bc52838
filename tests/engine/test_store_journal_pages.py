"""Partial reads of a long journal, on SQLite and PostgreSQL: exact keys, key pages, the
records of some steps, a page of log lines of some steps, and copying records with their logs."""

from __future__ import annotations

import pytest

from engine.store import Store
from engine.store import journal_pages
from tests.pg import pg_database, pg_url  # noqa: F401
from tests.store_fixtures import store  # noqa: F401


@pytest.fixture
def run_id(store: Store) -> str:
    return store.create_run(kind="flow", path="f/x").id


def _loop(store: Store, run_id: str, count: int, failing: tuple[int, ...] = ()) -> None:
    store.save_step(run_id, "l", step_id="l", status="success")
    for i in range(count):
        status = "failure" if i in failing else "success"
        store.save_step(run_id, f"l/{i}/s", step_id="s", iteration=i, status=status, result=i)


def test_load_steps_at_reads_exactly_the_keys_asked_for_in_chunks(store: Store, run_id: str, monkeypatch) -> None:
    monkeypatch.setattr(journal_pages, "CHUNK", 3)
    _loop(store, run_id, 12)
    other = store.create_run(kind="flow", path="f/y").id
    store.save_step(other, "l/1/s", step_id="s", result="other run")
    found = store.load_steps_at(run_id, [f"l/{i}/s" for i in (1, 2, 10, 11, 40)] + ["l"])
    assert sorted(found) == ["l", "l/1/s", "l/10/s", "l/11/s", "l/2/s"]  # "l/40/s" does not exist
    assert found["l/1/s"].result == 1 and found["l/10/s"].iteration == 10
    assert store.load_steps_at(run_id, []) == {}
    bare = store.load_steps_at(run_id, ["l/1/s"], results=False)["l/1/s"]
    assert (bare.result, bare.status, bare.iteration) == (None, "success", 1)


def test_step_keys_pages_through_the_journal_in_key_order(store: Store, run_id: str) -> None:
    _loop(store, run_id, 25)
    seen, after = [], None
    while page := store.step_keys(run_id, after, limit=7):
        assert len(page) <= 7
        seen.extend(page)
        after = page[-1][0]
    assert [key for key, _ in seen] == sorted(["l"] + [f"l/{i}/s" for i in range(25)])
    assert dict(seen)["l/3/s"] == "success"


def test_running_steps_are_those_still_running_under_a_prefix(store: Store, run_id: str) -> None:
    _loop(store, run_id, 3)
    store.save_step(run_id, "l/3/s", step_id="s", iteration=3, status="running")
    store.save_step(run_id, "m/0/t", step_id="t", iteration=0, status="running")
    assert sorted(store.running_steps(run_id, "l/")) == ["l/3/s"]
    assert sorted(store.running_steps(run_id)) == ["l/3/s", "m/0/t"]


def test_load_steps_of_reads_every_record_of_some_steps(store: Store, run_id: str) -> None:
    _loop(store, run_id, 3)
    store.save_step(run_id, "ask", step_id="ask", data={"suspend": {"required": 1}})
    assert sorted(store.load_steps_of(run_id, ["ask", "s"])) == ["ask", "l/0/s", "l/1/s", "l/2/s"]
    assert store.load_steps_of(run_id, []) == {}


def test_get_step_logs_gives_a_page_of_lines_of_each_step_and_one_more_when_cut(store: Store, run_id: str) -> None:
    store.append_logs(run_id, None, [(1.0, "stdout", f"run {n}") for n in range(5)])
    store.append_logs(run_id, "a", [(1.0, "stdout", f"a {n}") for n in range(10)])
    store.append_logs(run_id, "b", [(1.0, "stderr", "b 0")])
    store.append_logs(run_id, "c", [(1.0, "stdout", "c 0")])
    lines = store.get_step_logs(run_id, [None, "a", "b"], per_step=3)
    by_step: dict = {}
    for entry in lines:
        by_step.setdefault(entry.step_key, []).append(entry.line)
    assert by_step == {None: ["run 0", "run 1", "run 2", "run 3"], "a": ["a 0", "a 1", "a 2", "a 3"], "b": ["b 0"]}
    later = store.get_step_logs(run_id, ["a", "b"], per_step=3, skip={"a": 3, "b": 1})
    assert [entry.line for entry in later] == ["a 3", "a 4", "a 5", "a 6"]  # the next page of a's lines
    assert [entry.line for entry in store.get_step_logs(run_id, ["a"], per_step=3, skip={"a": 8})] == ["a 8", "a 9"]


def test_copy_steps_copies_records_with_their_log_lines(store: Store, run_id: str) -> None:
    _loop(store, run_id, 4)
    store.append_logs(run_id, "l/1/s", [(1.0, "stdout", "one"), (2.0, "stdout", "two")])
    store.append_logs(run_id, "l/2/s", [(1.0, "stdout", "not copied")])
    new = store.create_run(kind="flow", path="f/x").id
    store.copy_steps(run_id, new, ["l/0/s", "l/1/s"])
    copied = store.load_steps(new)
    assert sorted(copied) == ["l/0/s", "l/1/s"] and copied["l/1/s"].result == 1
    assert copied["l/1/s"].iteration == 1 and copied["l/1/s"].status == "success"
    assert [(line.step_key, line.line) for line in store.get_logs(new)] == [("l/1/s", "one"), ("l/1/s", "two")]


def test_records_read_by_key_are_those_a_whole_journal_read_gives(store: Store, run_id: str) -> None:
    # SQLite reads by key go straight to the driver: every field as SQLAlchemy reads it.
    values = [None, 0, 1.5, -7, "1", "naïve ☃", True, [1, None, {"a": []}], {"k": {"n": 2.25}}]
    for i, value in enumerate(values):
        store.save_step(run_id, f"k{i}", step_id="s", iteration=i, status="success", result=value,
                        error={"name": "E", "message": str(value)} if i % 2 else None, attempts=i,
                        started_at=i + 0.5, finished_at=None if i % 3 else float(i), data={"args": {"x": value}})
    keys = [f"k{i}" for i in range(len(values))]
    whole = store.load_steps(run_id)
    by_key = store.load_steps_at(run_id, keys)
    assert [by_key[key].model_dump() for key in keys] == [whole[key].model_dump() for key in keys]
    assert [by_key[key].result for key in keys] == values
    bare = store.load_steps_at(run_id, keys, results=False)
    assert [(bare[key].result, bare[key].data) for key in keys] == [(None, whole[key].data) for key in keys]
