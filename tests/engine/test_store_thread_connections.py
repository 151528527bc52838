"""Journal writes on SQLite go through a connection of each thread's own, outside the pool."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

from engine.store import Store


def save_from_a_thread(store: Store, run_id: str, key: str) -> None:
    thread = threading.Thread(target=store.save_step, args=(run_id, key), kwargs={"status": "success", "result": key})
    thread.start()
    thread.join()


def test_each_thread_writes_on_its_own_connection_and_every_reader_sees_it(tmp_path: Path) -> None:
    with Store.open(tmp_path / "millrace.db") as store:
        run_id = store.create_run(kind="flow", path="f/x").id
        store.save_step(run_id, "a", status="success", result=1)
        store.save_step(run_id, "b", status="success", result=2)
        connections = store.db.thread_connections
        assert connections.open_count == 1  # one for this thread, however many writes
        other = threading.Thread(target=store.save_step, args=(run_id, "c"), kwargs={"status": "failure"})
        other.start()
        other.join()
        assert {key: step.status for key, step in store.load_steps(run_id).items()} == {
            "a": "success", "b": "success", "c": "failure"}


def test_a_gone_thread_and_a_closed_store_leave_no_connection_open(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "millrace.db")
    run_id = store.create_run(kind="flow", path="f/x").id
    save_from_a_thread(store, run_id, "a")
    gc.collect()  # the thread object goes, and its connection with it
    connections = store.db.thread_connections
    assert connections.open_count == 0
    store.save_step(run_id, "b", status="success")
    assert connections.open_count == 1
    store.close()
    assert connections.open_count == 0
    store.save_step(run_id, "c", status="success")  # after close, a new one (as the pool reconnects)
    assert store.load_step(run_id, "c").status == "success"
    store.close()


def test_an_in_memory_store_writes_on_its_one_shared_connection() -> None:
    with Store.open("sqlite://") as store:
        assert store.db.thread_connections is None
        run_id = store.create_run(kind="flow", path="f/x").id
        store.save_step(run_id, "a", status="success", result=[1])
        assert store.load_step(run_id, "a").result == [1]
