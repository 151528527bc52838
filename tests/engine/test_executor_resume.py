"""Resuming a run from its journal: finished steps are never run twice."""

from __future__ import annotations

from engine.errors import ArgsValidationError
from tests.flowkit import counter_code, flow, for_loop, py

import pytest


def lost_and_requeued(store, run_id: str) -> None:
    """As after its worker was lost mid-run: back in the queue, unfinished."""
    store.update_run(run_id, status="queued", worker_id=None, heartbeat_at=None, result=None)


def test_a_requeued_run_replays_finished_steps_without_running_them(harness, tmp_path):
    marker = tmp_path / "runs.txt"
    document = flow(py("a", counter_code(str(marker))), py("b", counter_code(str(marker))))
    outcome = harness.run(document)
    assert outcome.result == 2
    store = harness.engine.store
    lost_and_requeued(store, outcome.run_id)
    store.delete_steps(outcome.run_id, keys_prefix="b")
    again = harness.call(harness.new().drive(outcome.run_id))
    assert again.status == "success"
    assert len(marker.read_text().splitlines()) == 3


def test_loop_iterations_that_finished_are_replayed(harness, tmp_path):
    marker = tmp_path / "runs.txt"
    document = flow(for_loop("l", "[1, 2, 3]", [py("s", counter_code(str(marker)))]))
    outcome = harness.run(document)
    store = harness.engine.store
    lost_and_requeued(store, outcome.run_id)
    store.delete_steps(outcome.run_id, keys_prefix="l/2/")
    store.save_step(outcome.run_id, "l", status="running")
    outcome2 = harness.call(harness.new().drive(outcome.run_id))
    assert (outcome2.status, outcome2.result) == ("success", [1, 2, 4])
    assert len(marker.read_text().splitlines()) == 4


def test_args_are_validated_against_the_schema_with_defaults(harness):
    schema = {"type": "object", "properties": {"n": {"type": "integer"}, "unit": {"type": "string", "default": "kg"}},
              "required": ["n"]}
    document = flow(py("a", "def main(n, unit):\n    return f'{n}{unit}'\n", n="js:flow_input.n", unit="js:flow_input.unit"),
                    schema=schema)
    assert harness.run(document, {"n": 3}).result == "3kg"
    with pytest.raises(ArgsValidationError) as info:
        harness.run(document, {"n": "three"})
    assert "n" in str(info.value)


def test_an_identity_step_is_journaled_once_finished_and_replayed_after_a_crash(harness, tmp_path):
    marker = tmp_path / "runs.txt"
    identity = {"id": "i", "value": {"type": "identity"}}
    document = flow(for_loop("l", "[1, 2, 3]", [identity, py("s", counter_code(str(marker)))]))
    store = harness.engine.store
    saved: list[tuple[str, str | None]] = []
    save_step = store.save_step
    store.save_step = lambda run_id, key, **fields: (saved.append((key, fields.get("status"))),
                                                     save_step(run_id, key, **fields))[1]
    outcome = harness.run(document)
    assert (outcome.status, outcome.result) == ("success", [1, 2, 3])
    assert [status for key, status in saved if key.endswith("/i")] == ["success"] * 3
    assert [status for key, status in saved if key == "l/1/s"] == ["running", "success"]
    # As after a crash while iteration 2's script ran: its identity had finished.
    lost_and_requeued(store, outcome.run_id)
    store.delete_steps(outcome.run_id, keys=["l/2/s"])
    store.save_step(outcome.run_id, "l", status="running")
    again = harness.call(harness.new().drive(outcome.run_id))
    assert (again.status, again.result) == ("success", [1, 2, 4])
    assert len(marker.read_text().splitlines()) == 4
