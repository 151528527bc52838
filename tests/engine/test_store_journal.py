from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.errors import NotFound
from engine.store import Store
from tests.pg import pg_database, pg_url  # noqa: F401
from tests.store_fixtures import store  # noqa: F401


@dataclass
class Line:
    ts: float
    stream: str
    line: str


@pytest.fixture
def run_id(store: Store) -> str:
    return store.create_run(kind="flow", path="f/x").id


def test_first_save_inserts_a_running_record(store: Store, run_id: str) -> None:
    store.save_step(run_id, "a", step_id="a", started_at=1.0)
    record = store.load_steps(run_id)["a"]
    assert (record.run_id, record.key, record.step_id) == (run_id, "a", "a")
    assert (record.status, record.attempts, record.data, record.started_at) == ("running", 0, {}, 1.0)


def test_later_saves_change_only_the_given_fields(store: Store, run_id: str) -> None:
    store.save_step(run_id, "loop/3/b", step_id="b", iteration=3, started_at=1.0, data={"x": 1})
    store.save_step(run_id, "loop/3/b", status="success", result=[1], finished_at=2.0)
    record = store.load_steps(run_id)["loop/3/b"]
    assert (record.step_id, record.iteration, record.started_at, record.data) == ("b", 3, 1.0, {"x": 1})
    assert (record.status, record.result, record.finished_at) == ("success", [1], 2.0)


def test_saving_the_same_record_twice_leaves_one_record(store: Store, run_id: str) -> None:
    for _ in range(3):
        store.save_step(run_id, "a", status="success", result={"v": 1}, attempts=1)
    steps = store.load_steps(run_id)
    assert list(steps) == ["a"]
    assert (steps["a"].result, steps["a"].attempts) == ({"v": 1}, 1)


def test_save_with_no_fields_creates_but_never_resets(store: Store, run_id: str) -> None:
    store.save_step(run_id, "a")
    store.save_step(run_id, "a", status="waiting", data={"sleep_until": 99.0})
    store.save_step(run_id, "a")
    record = store.load_steps(run_id)["a"]
    assert (record.status, record.data) == ("waiting", {"sleep_until": 99.0})


def test_a_failed_step_keeps_its_error_object(store: Store, run_id: str) -> None:
    error = {"name": "Error", "message": "boom", "stack": "at main", "step_id": "c", "iteration": 2}
    store.save_step(run_id, "br/1/c", status="failure", error=error, attempts=3)
    assert store.load_steps(run_id)["br/1/c"].error == error


def test_load_step_reads_one_record_of_one_run(store: Store, run_id: str) -> None:
    other = store.create_run(kind="flow", path="f/y").id
    store.save_step(run_id, "a", step_id="a", status="success", result={"rows": [1, 2]})
    store.save_step(other, "a", step_id="a", result="other")
    store.save_step(run_id, "b", step_id="b")
    record = store.load_step(run_id, "a")
    assert (record.key, record.status, record.result) == ("a", "success", {"rows": [1, 2]})
    assert store.load_step(run_id, "missing") is None


def test_records_of_each_run_are_separate(store: Store, run_id: str) -> None:
    other = store.create_run(kind="flow", path="f/y").id
    store.save_step(run_id, "a", status="success", result=1)
    store.save_step(other, "a", status="success", result=2)
    assert store.load_steps(run_id)["a"].result == 1
    assert store.load_steps(other)["a"].result == 2


def test_save_step_of_unknown_run_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="ghost"):
        store.save_step("ghost", "a", status="running")


def test_save_step_refuses_unknown_fields_and_statuses(store: Store, run_id: str) -> None:
    with pytest.raises(TypeError, match="colour"):
        store.save_step(run_id, "a", colour="red")
    with pytest.raises(ValueError, match="finished"):
        store.save_step(run_id, "a", status="finished")


def test_delete_steps_by_prefix_keeps_the_rest(store: Store, run_id: str) -> None:
    for key in ("a", "loop", "loop/0/b", "loop/1/b", "loop2/0/b", "x_y/1", "xzy/1"):
        store.save_step(run_id, key, status="success")
    assert store.delete_steps(run_id, keys_prefix="loop/") == 2
    assert store.delete_steps(run_id, keys_prefix="x_y/") == 1
    assert sorted(store.load_steps(run_id)) == ["a", "loop", "loop2/0/b", "xzy/1"]


def test_delete_steps_by_keys_or_all(store: Store, run_id: str) -> None:
    for key in ("a", "b", "c"):
        store.save_step(run_id, key, status="success")
    assert store.delete_steps(run_id, keys=["a", "c", "zz"]) == 2
    assert list(store.load_steps(run_id)) == ["b"]
    assert store.delete_steps(run_id) == 1
    assert store.load_steps(run_id) == {}


def test_logs_come_back_in_append_order(store: Store, run_id: str) -> None:
    store.append_logs(run_id, "a", [(1.0, "stdout", "one"), (0.5, "stderr", "two")])
    store.append_logs(run_id, "b", [Line(2.0, "stdout", "three")])
    store.append_logs(run_id, None, [(3.0, "stdout", "four")])
    logs = store.get_logs(run_id)
    assert [(e.step_key, e.ts, e.stream, e.line) for e in logs] == [
        ("a", 1.0, "stdout", "one"),
        ("a", 0.5, "stderr", "two"),
        ("b", 2.0, "stdout", "three"),
        (None, 3.0, "stdout", "four"),
    ]
    assert [e.id for e in logs] == sorted(e.id for e in logs)


def test_logs_page_by_after_id(store: Store, run_id: str) -> None:
    store.append_logs(run_id, "a", [(float(i), "stdout", f"line {i}") for i in range(25)])
    seen, after = [], 0
    while page := store.get_logs(run_id, after_id=after, limit=10):
        seen += [entry.line for entry in page]
        after = page[-1].id
    assert seen == [f"line {i}" for i in range(25)]


def test_logs_filter_by_step(store: Store, run_id: str) -> None:
    store.append_logs(run_id, "a", [(1.0, "stdout", "a1")])
    store.append_logs(run_id, "b", [(1.0, "stdout", "b1")])
    store.append_logs(run_id, "a", [(2.0, "stdout", "a2")])
    assert [e.line for e in store.get_logs(run_id, step_key="a")] == ["a1", "a2"]


def test_logs_keep_long_and_unicode_lines_and_replace_nul(store: Store, run_id: str) -> None:
    long_line = "ü" * 100_000
    store.append_logs(run_id, "a", [(1.0, "stdout", long_line), (1.0, "stdout", "a\x00b")])
    assert [e.line for e in store.get_logs(run_id)] == [long_line, "a\ufffdb"]


def test_logs_of_unknown_run_raise_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="ghost"):
        store.append_logs("ghost", "a", [(1.0, "stdout", "x")])


def test_appending_no_lines_does_nothing(store: Store, run_id: str) -> None:
    store.append_logs(run_id, "a", [])
    assert store.get_logs(run_id) == []


def test_step_upsert_on_sqlite_takes_well_under_a_millisecond(tmp_path: Path) -> None:
    with Store.open(tmp_path / "millrace.db") as sqlite_store:
        run_id = sqlite_store.create_run(kind="flow", path="f/x").id
        samples = []
        for i in range(200):
            started = time.perf_counter()
            sqlite_store.save_step(run_id, f"loop/{i % 20}/b", status="success", result={"i": i})
            samples.append(time.perf_counter() - started)
    assert statistics.median(samples) < 0.001


def test_saved_values_read_back_as_they_were_given(store: Store, run_id: str) -> None:
    # SQLite writes go straight to the driver: the JSON text must be what the ORM reads.
    result = {"text": "naïve ☃", "n": [1, 2.5, None, True], "nested": {"a": {}}}
    store.save_step(run_id, "l/0/a", step_id="a", status="success", result=result, error=None,
                    iteration=0, started_at=1.5, finished_at=2.25, data={"args": {"x": "y"}})
    store.save_step(run_id, "b", step_id="b", result=None, data={})
    record, other = store.load_step(run_id, "l/0/a"), store.load_step(run_id, "b")
    assert (record.result, record.error, record.data) == (result, None, {"args": {"x": "y"}})
    assert (record.iteration, record.started_at, record.finished_at) == (0, 1.5, 2.25)
    assert (other.status, other.result, other.attempts, other.data) == ("running", None, 0, {})
