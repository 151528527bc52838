"""A step whose worker was lost while it ran: counted once per loss, failed at the limit.

These tests stage what a lost worker leaves behind, through the store's own calls: a
worker whose heartbeat went stale is marked lost by `requeue_stale`, and the step
it was running still has its journal record "running", held by it. The run is then
driven as a worker taking it over would. tests/engine/test_faults.py kills and stops
real worker processes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import BadInput, QueueWorker
from engine.executor.losses import max_losses_from_env
from tests.flowkit import counter_code, flow, for_loop, py

T0 = 1_000.0


def lost_worker(store, worker_id: str = "w-dead") -> str:
    """A worker that went quiet long ago, found stale (and marked lost) by another."""
    store.register_worker(worker_id, now=T0)
    store.requeue_stale(now=T0 + 100, timeout=60)
    assert store.get_worker(worker_id).status == "lost"
    return worker_id


def in_flight(store, run_id: str, key: str, holder: str, losses: int = 0, **fields) -> None:
    """Leave the step at `key` running under `holder`, lost `losses` times already."""
    data = {"held_by": holder, **({"worker_losses": losses} if losses else {})}
    store.save_step(run_id, key, step_id=key.rsplit("/", 1)[-1], status="running", data=data, **fields)


def runs_of(marker: Path) -> int:
    return len(marker.read_text().splitlines()) if marker.exists() else 0


def test_a_step_whose_worker_was_lost_three_times_fails_without_running_again(harness, tmp_path):
    marker = tmp_path / "x"
    engine = harness.engine
    run_id = engine.submit(flow(py("a", "def main():\n    return 1\n"), py("x", counter_code(str(marker)))))
    in_flight(engine.store, run_id, "x", lost_worker(engine.store), losses=2)

    done = harness.call(engine.drive(run_id))

    assert done.status == "failure"
    assert (done.error["name"], done.error["step_id"]) == ("WorkerLost", "x")
    assert done.error["message"] == "worker lost 3 times while running step x"
    assert runs_of(marker) == 0
    record = engine.store.load_steps(run_id)["x"]
    assert (record.status, record.error["name"], record.data["worker_losses"]) == ("failure", "WorkerLost", 3)


def test_each_loss_counts_once_and_the_step_runs_again_below_the_limit(harness, tmp_path):
    marker = tmp_path / "x"
    engine = harness.engine
    run_id = engine.submit(flow(py("x", counter_code(str(marker)))))
    in_flight(engine.store, run_id, "x", lost_worker(engine.store), losses=1)

    done = harness.call(engine.drive(run_id))

    assert (done.status, done.result, runs_of(marker)) == ("success", 1, 1)
    record = engine.store.load_steps(run_id)["x"]
    assert record.data["worker_losses"] == 2
    assert record.data["held_by"] not in (None, "w-dead")  # the worker that ran it now


def test_a_worker_that_handed_its_run_back_is_not_counted(harness, tmp_path):
    marker = tmp_path / "x"
    engine = harness.engine
    run_id = engine.submit(flow(py("x", counter_code(str(marker)))))
    engine.store.register_worker("w-drained", now=T0)
    engine.store.retire_worker("w-drained")  # SIGTERM: it stopped and handed its runs back
    in_flight(engine.store, run_id, "x", "w-drained", losses=2)

    done = harness.call(engine.drive(run_id))

    assert (done.status, runs_of(marker)) == ("success", 1)
    assert engine.store.load_steps(run_id)["x"].data["worker_losses"] == 2


def test_the_step_inside_a_loop_counts_not_the_loop_around_it(harness, tmp_path):
    marker = tmp_path / "s"
    engine = harness.engine
    body = [py("s", counter_code(str(marker)), x="js:flow_input.iter.value")]
    run_id = engine.submit(flow(for_loop("l", "[1, 2, 3]", body, skip_failures=False)))
    dead = lost_worker(engine.store)
    in_flight(engine.store, run_id, "l", dead, losses=2)
    engine.store.save_step(run_id, "l/0/s", step_id="s", iteration=0, status="success", result=1)
    in_flight(engine.store, run_id, "l/1/s", dead, losses=2, iteration=1)

    done = harness.call(engine.drive(run_id))

    assert done.status == "failure"
    assert (done.error["step_id"], done.error["iteration"]) == ("s", 1)
    assert done.error["message"] == "worker lost 3 times while running step s"
    steps = engine.store.load_steps(run_id)
    assert steps["l"].data["worker_losses"] == 2  # the loop was only around the step in flight
    assert runs_of(marker) == 0


def test_a_loop_lost_in_its_own_work_counts_itself(harness, tmp_path):
    engine = harness.engine
    body = [py("s", "def main():\n    return 1\n")]
    run_id = engine.submit(flow(for_loop("l", "[1, 2]", body)))
    in_flight(engine.store, run_id, "l", lost_worker(engine.store), losses=2)

    done = harness.call(engine.drive(run_id))

    assert (done.status, done.error["step_id"], done.error["name"]) == ("failure", "l", "WorkerLost")
    assert done.error["message"] == "worker lost 3 times while running step l"


def test_a_step_lost_too_often_is_not_retried_but_the_failure_module_runs(harness, tmp_path):
    marker = tmp_path / "x"
    engine = harness.engine
    step = py("x", counter_code(str(marker)))
    step["retry"] = {"constant": {"attempts": 5, "seconds": 1}}
    handler = py("failure", "def main(e):\n    return {'seen': e['error']['message']}\n", e="js:previous_result")
    run_id = engine.submit(flow(step, failure_module=handler))
    in_flight(engine.store, run_id, "x", lost_worker(engine.store), losses=2)

    done = harness.call(engine.drive(run_id))

    assert done.status == "failure" and done.result == {"seen": "worker lost 3 times while running step x"}
    assert runs_of(marker) == 0
    assert engine.store.load_steps(run_id)["x"].attempts == 0


def test_the_limit_is_configurable(harness, tmp_path, monkeypatch):
    marker = tmp_path / "x"
    engine = harness.engine
    monkeypatch.setenv("MILLRACE_MAX_WORKER_LOSSES", "1")
    assert QueueWorker(engine).role.max_losses == 1
    assert QueueWorker(engine, max_losses=7).role.max_losses == 7
    run_id = engine.submit(flow(py("x", counter_code(str(marker)))))
    in_flight(engine.store, run_id, "x", lost_worker(engine.store))

    done = harness.call(engine.drive(run_id))

    assert done.error["message"] == "worker lost 1 times while running step x"
    assert runs_of(marker) == 0


@pytest.mark.parametrize("value", ["0", "-2", "three", "1.5"])
def test_a_bad_limit_is_refused_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("MILLRACE_MAX_WORKER_LOSSES", value)
    with pytest.raises(BadInput, match=f"MILLRACE_MAX_WORKER_LOSSES must be a whole number of at least 1, not '{value}'"):
        max_losses_from_env()


def test_a_bad_limit_given_to_a_worker_is_refused(harness):
    with pytest.raises(BadInput, match="max_losses must be at least 1, got 0"):
        QueueWorker(harness.engine, max_losses=0)
