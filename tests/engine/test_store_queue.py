from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine.errors import RunLost
from engine.store import Store
from tests.pg import pg_database, pg_url  # noqa: F401
from tests.store_fixtures import store  # noqa: F401

T0 = 1_700_000_000.0


def _queue(store: Store, count: int, **fields: object) -> list[str]:
    ids = []
    for _ in range(count):
        ids.append(store.create_run(kind="script", path="u/s", **fields).id)
        store.clock.advance(1)
    return ids


def test_claim_takes_the_oldest_queued_run(store: Store) -> None:
    ids = _queue(store, 3)
    claimed = store.claim_run("w1", now=T0 + 100)
    assert claimed is not None
    assert claimed.id == ids[0]
    assert (claimed.status, claimed.worker_id) == ("running", "w1")
    assert claimed.started_at == claimed.heartbeat_at == T0 + 100
    assert store.get_run(ids[0]) == claimed


def test_a_claimed_run_is_not_claimed_again(store: Store) -> None:
    ids = _queue(store, 2)
    first = store.claim_run("w1", now=T0 + 10)
    second = store.claim_run("w2", now=T0 + 10)
    assert (first and first.id, second and second.id) == (ids[0], ids[1])
    assert store.claim_run("w3", now=T0 + 10) is None


def test_claim_waits_for_scheduled_for(store: Store) -> None:
    later = store.create_run(kind="script", path="u/s", scheduled_for=T0 + 60).id
    assert store.claim_run("w1", now=T0 + 59) is None
    claimed = store.claim_run("w1", now=T0 + 60)
    assert claimed is not None and claimed.id == later


def test_claim_orders_by_scheduled_time_before_creation(store: Store) -> None:
    first_created = store.create_run(kind="script", path="u/s", scheduled_for=T0 + 30).id
    store.clock.advance(1)
    due_earlier = store.create_run(kind="script", path="u/s", scheduled_for=T0 + 5).id
    order = [store.claim_run("w", now=T0 + 100) for _ in range(2)]
    assert [run.id for run in order if run] == [due_earlier, first_created]


def test_claim_only_takes_runs_with_a_wanted_tag(store: Store) -> None:
    bash = _queue(store, 1, tag="bash")[0]
    python = _queue(store, 1, tag="python3")[0]
    claimed = store.claim_run("w1", ["python3", "flow"], now=T0 + 10)
    assert claimed is not None and claimed.id == python
    assert store.claim_run("w1", ["python3"], now=T0 + 10) is None
    assert store.claim_run("w1", [], now=T0 + 10) is None
    anything = store.claim_run("w2", None, now=T0 + 10)
    assert anything is not None and anything.id == bash


def test_claim_skips_runs_that_are_not_queued(store: Store) -> None:
    _queue(store, 1, status="suspended")
    _queue(store, 1, status="success")
    assert store.claim_run("w1", now=T0 + 10) is None


def test_claim_runs_takes_up_to_the_limit_oldest_first(store: Store) -> None:
    ids = _queue(store, 5)
    _queue(store, 1, status="suspended")
    first = store.claim_runs("w1", limit=3, now=T0 + 100)
    assert [run.id for run in first] == ids[:3]
    assert {(run.status, run.worker_id) for run in first} == {("running", "w1")}
    assert [run.id for run in store.claim_runs("w2", limit=3, now=T0 + 100)] == ids[3:]
    assert store.claim_runs("w3", limit=3, now=T0 + 100) == []
    assert store.claim_runs("w3", limit=0, now=T0 + 100) == []


def _claim_all(store: Store, workers: int, now: float, batch: int = 1) -> list[str]:
    start = threading.Barrier(workers)

    def drain(worker: int) -> list[str]:
        start.wait()
        taken: list[str] = []
        while claimed := store.claim_runs(f"w{worker}", limit=batch, now=now):
            taken.extend(run.id for run in claimed)
        return taken

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [run_id for batch in pool.map(drain, range(workers)) for run_id in batch]


def test_concurrent_claims_take_each_run_exactly_once(store: Store) -> None:
    ids = _queue(store, 200)
    claimed = _claim_all(store, workers=4, now=T0 + 1000)
    counts = Counter(claimed)
    assert set(counts) == set(ids)
    assert max(counts.values()) == 1
    running = store.list_runs(status="running", limit=500)
    assert {run.id for run in running} == set(ids)


def test_concurrent_batch_claims_take_each_run_exactly_once(store: Store) -> None:
    ids = _queue(store, 200)
    counts = Counter(_claim_all(store, workers=4, now=T0 + 1000, batch=7))
    assert set(counts) == set(ids)
    assert max(counts.values()) == 1


def test_heartbeat_refreshes_the_worker_and_its_runs(store: Store) -> None:
    ids = _queue(store, 3)
    store.register_worker("w1", hostname="box", tags=["bash"], now=T0)
    store.claim_run("w1", now=T0 + 5)
    store.claim_run("w1", now=T0 + 5)
    store.claim_run("w2", now=T0 + 5)
    assert store.heartbeat("w1", now=T0 + 20) == sorted(ids[:2])
    assert [store.get_run(i).heartbeat_at for i in ids] == [T0 + 20, T0 + 20, T0 + 5]  # type: ignore[union-attr]
    (worker,) = [w for w in store.list_workers() if w.id == "w1"]
    assert (worker.heartbeat_at, worker.hostname, worker.tags, worker.status) == (
        T0 + 20, "box", ["bash"], "alive"
    )


def test_stale_runs_go_back_to_the_queue_for_another_worker(store: Store) -> None:
    stale, fresh = _queue(store, 2)
    store.register_worker("dead", now=T0)
    store.register_worker("alive", now=T0)
    store.claim_run("dead", now=T0 + 10)
    store.claim_run("alive", now=T0 + 10)
    store.heartbeat("alive", now=T0 + 80)
    assert store.requeue_stale(now=T0 + 100, timeout=60) == [stale]
    requeued = store.get_run(stale)
    assert requeued is not None
    assert (requeued.status, requeued.worker_id, requeued.heartbeat_at) == ("queued", None, None)
    assert store.get_run(fresh).status == "running"  # type: ignore[union-attr]
    statuses = {w.id: w.status for w in store.list_workers()}
    assert statuses == {"dead": "lost", "alive": "alive"}
    taken = store.claim_run("rescuer", now=T0 + 101)
    assert taken is not None
    assert (taken.id, taken.worker_id, taken.started_at) == (stale, "rescuer", T0 + 10)
    assert store.heartbeat("dead", now=T0 + 102) == []


def test_a_scoped_claim_takes_only_the_runs_of_its_run_trees(store: Store) -> None:
    mine, other = _queue(store, 2)
    part = store.create_run(kind="part", path="u/s", parent_run_id=mine, scheduled_for=T0).id
    assert store.claim_runs("w1", roots=[], limit=5, now=T0 + 10) == []
    claimed = store.claim_runs("w1", roots=[mine], limit=5, now=T0 + 10)
    assert sorted(run.id for run in claimed) == sorted([mine, part])
    assert store.claim_run("w1", roots=[mine], now=T0 + 10) is None
    assert store.get_run(other).status == "queued"  # type: ignore[union-attr]


def test_a_scoped_sweep_judges_only_its_run_trees_and_their_workers(store: Store) -> None:
    mine, other = _queue(store, 2)
    for worker_id in ("w-mine", "w-other", "w-idle"):
        store.register_worker(worker_id, now=T0)
    store.claim_run("w-mine", roots=[mine], now=T0 + 10)
    store.claim_run("w-other", roots=[other], now=T0 + 10)
    assert store.requeue_stale(now=T0 + 100, timeout=60, roots=[mine]) == [mine]
    assert store.get_run(other).status == "running"  # type: ignore[union-attr]
    statuses = {w.id: w.status for w in store.list_workers()}
    assert statuses == {"w-mine": "lost", "w-other": "alive", "w-idle": "alive"}
    assert store.get_worker("w-mine").status == "lost"  # type: ignore[union-attr]
    assert store.get_worker("nobody") is None


def test_runs_without_heartbeat_are_never_requeued(store: Store) -> None:
    run = store.create_run(kind="flow", path="f/x", status="running")
    assert store.requeue_stale(now=T0 + 10_000, timeout=1) == []
    assert store.get_run(run.id).status == "running"  # type: ignore[union-attr]


def test_release_hands_a_run_back(store: Store) -> None:
    (run_id,) = _queue(store, 1)
    store.claim_run("w1", now=T0 + 1)
    assert store.release(run_id, worker_id="someone-else") is False
    assert store.release(run_id, worker_id="w1", scheduled_for=T0 + 50) is True
    released = store.get_run(run_id)
    assert released is not None
    assert (released.status, released.worker_id, released.scheduled_for) == ("queued", None, T0 + 50)
    assert store.claim_run("w2", now=T0 + 49) is None
    assert store.claim_run("w2", now=T0 + 50) is not None
    assert store.release("unknown") is False


def test_retiring_a_worker_releases_its_runs(store: Store) -> None:
    ids = _queue(store, 2)
    store.register_worker("w1", now=T0)
    store.claim_run("w1", now=T0 + 5)
    store.claim_run("w1", now=T0 + 5)
    assert store.retire_worker("w1") == sorted(ids)
    assert {store.get_run(i).status for i in ids} == {"queued"}  # type: ignore[union-attr]
    assert [w.status for w in store.list_workers()] == ["stopped"]


def test_registering_again_revives_a_worker(store: Store) -> None:
    store.register_worker("w1", tags=["a"], now=T0)
    store.retire_worker("w1")
    store.register_worker("w1", tags=["b"], now=T0 + 9)
    (worker,) = store.list_workers()
    assert (worker.status, worker.tags, worker.started_at) == ("alive", ["b"], T0 + 9)


def test_requeue_due_queues_waiting_top_level_runs_whose_deadline_passed(store: Store) -> None:
    due = store.create_run(kind="flow", path="f/a", status="suspended", scheduled_for=T0 + 10).id
    later = store.create_run(kind="flow", path="f/a", status="suspended", scheduled_for=T0 + 500).id
    child = store.create_run(kind="flow", path="f/a", status="suspended", scheduled_for=T0 + 10,
                             parent_run_id=due).id
    assert store.requeue_due(now=T0 + 100) == [due]
    assert store.requeue_due(now=T0 + 100) == []  # queued once, whoever asks again
    assert [store.get_run(i).status for i in (due, later, child)] == ["queued", "suspended", "suspended"]
    assert store.claim_run("w1", now=T0 + 100).id == due


def test_cancel_tree_ends_the_run_and_its_unfinished_parts_and_stops_their_heartbeat(store: Store) -> None:
    root = store.create_run(kind="flow", path="f/x").id
    running = store.create_run(kind="part", path="f/x", parent_run_id=root).id
    done = store.create_run(kind="part", path="f/x", parent_run_id=root).id
    other = store.create_run(kind="flow", path="f/y").id
    store.claim_runs("w1", limit=4, now=T0 + 10)
    store.finish_run(done, "success")
    error = {"name": "Canceled", "message": "canceled by ann", "stack": ""}
    assert store.cancel_tree(root, error, now=T0 + 20) == [root, running]
    assert [store.get_run(i).status for i in (root, running, done, other)] == ["canceled", "canceled", "success",
                                                                               "running"]
    assert store.get_run(root).error == error and store.get_run(running).finished_at == T0 + 20
    assert store.heartbeat("w1", now=T0 + 30) == [other]  # its worker no longer holds them: it stops them
    assert store.cancel_tree(root, error) == []  # ended already
    # A worker that has not heard of it yet cannot finish or requeue it.
    assert store.finish_run(running, "success", result=1).status == "canceled"
    assert store.update_run(root, status="queued").status == "canceled"


def test_a_worker_whose_run_was_taken_over_writes_nothing_of_it(store: Store) -> None:
    # The worker's own check (its lease) passed just before it stood still; the write
    # itself must still find the run taken and leave the taker's finished record alone.
    [run_id] = _queue(store, 1)
    store.claim_run("stalled", now=T0 + 10)
    store.db.holder = lambda: (run_id, "stalled")
    store.save_step(run_id, "a", step_id="a", status="running")
    assert store.requeue_stale(now=T0 + 100, timeout=60) == [run_id]
    store.db.holder = lambda: (run_id, "rescuer")
    assert store.claim_run("rescuer", now=T0 + 101).id == run_id
    store.save_step(run_id, "a", status="success", result=2)
    store.save_step(run_id, "b", step_id="b", status="success", result=3)

    store.db.holder = lambda: (run_id, "stalled")
    with pytest.raises(RunLost, match=f"run {run_id} is no longer worker stalled's: step record 'a'"):
        store.save_step(run_id, "a", status="running")
    with pytest.raises(RunLost):
        store.save_step(run_id, "c", step_id="c")
    with pytest.raises(RunLost, match=f"run {run_id} is no longer worker stalled's: its status stays running"):
        store.finish_run(run_id, "failure", error={"name": "X", "message": "stale"})
    with pytest.raises(RunLost, match="its status stays running"):
        store.finish_run(run_id, "failure", error={"name": "X", "message": "stale"}, returning=False)
    store.db.holder = lambda: (run_id, "rescuer")
    assert store.finish_run(run_id, "success", result=3).status == "success"
    store.db.holder = None
    steps = store.load_steps(run_id)
    assert [(key, record.status, record.result) for key, record in steps.items()] == [
        ("a", "success", 2), ("b", "success", 3)]
    assert (store.get_run(run_id).status, store.get_run(run_id).result) == ("success", 3)
