"""Flow snapshots are parsed (and dumped) once per distinct snapshot, never served stale."""

from __future__ import annotations

from engine.executor.snapshots import SnapshotCache
from tests.flowkit import expr_step, flow


def test_a_snapshot_is_made_once_and_a_changed_one_again():
    cache, made = SnapshotCache(kept=2), []

    def make(tag):
        return lambda: made.append(tag) or tag

    assert cache.get({"modules": [1]}, make("a")) == "a"
    assert cache.get({"modules": [1]}, make("b")) == "a"
    assert cache.get({"modules": [2]}, make("c")) == "c"
    assert cache.get({"modules": [3]}, make("d")) == "d"
    assert cache.get({"modules": [1]}, make("e")) == "e"  # the oldest went: at most `kept` are held
    assert made == ["a", "c", "d", "e"]


def test_runs_of_a_flow_dict_changed_between_submits_run_what_was_submitted(harness):
    document = flow(expr_step("a", "1"), schema={"type": "object", "properties": {"n": {"default": 1}}})
    first = harness.run(document)
    document["value"]["modules"][0]["value"]["input_transforms"]["x"]["expr"] = "2"
    document["schema"]["properties"]["n"]["default"] = 5
    second = harness.run(document)
    assert (first.result, second.result) == (1, 2)
    store = harness.engine.store
    assert (store.get_run(first.run_id).args, store.get_run(second.run_id).args) == ({"n": 1}, {"n": 5})
