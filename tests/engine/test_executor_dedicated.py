"""Dedicated mode in flows: `dedicated_worker: true` on a flow or a saved script runs its
Python steps in one warm worker per script version."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import BadInput, Resolver, script_flow_value
from tests.flowkit import expr_step, flow, for_loop, py

# The token is made when the script is loaded: equal tokens, one process served every call.
BODY = """
import uuid
WORKER = uuid.uuid4().hex
calls = 0

def main(x=None):
    global calls
    calls += 1
    return [WORKER, calls]
"""


def loop_flow(**value) -> dict:
    return flow(for_loop("loop", "[...Array(25).keys()]", [py("body", BODY, x="js:flow_input.iter.value")]), **value)


def test_a_dedicated_flow_runs_its_loop_body_through_one_warm_process(harness):
    document = {**loop_flow(), "dedicated_worker": True}
    outcome = harness.run(document)
    assert outcome.status == "success", outcome.error
    workers = {worker for worker, _ in outcome.result}
    assert len(workers) == 1
    assert [calls for _, calls in outcome.result] == list(range(1, 26))


def test_a_flow_not_marked_dedicated_runs_each_step_in_a_fresh_process(harness):
    outcome = harness.run(loop_flow())
    assert outcome.status == "success", outcome.error
    assert len({worker for worker, _ in outcome.result}) == 25
    assert {calls for _, calls in outcome.result} == {1}


def test_the_runs_snapshot_keeps_the_flows_flag(harness):
    document = {**loop_flow(), "dedicated_worker": True}
    outcome = harness.run(document)
    assert harness.engine.store.get_run(outcome.run_id).flow["dedicated_worker"] is True


def test_a_saved_script_marked_dedicated_keeps_its_worker_across_runs(harness):
    store = harness.engine.store
    store.save_script("f/lib/count", "python3", BODY, dedicated_worker=True)
    store.save_script("f/lib/plain", "python3", BODY)
    uses = flow({"id": "a", "value": {"type": "script", "path": "f/lib/count", "input_transforms": {}}},
                {"id": "b", "value": {"type": "script", "path": "f/lib/plain", "input_transforms": {}}},
                {"id": "c", "value": {"type": "script", "path": "f/lib/count", "input_transforms": {}}},
                expr_step("d", "[results.a, results.b, results.c]"))
    first, second = harness.run(uses), harness.run(uses)
    assert first.status == second.status == "success", (first.error, second.error)
    steps = [*first.result, *second.result]
    dedicated = [steps[0], steps[2], steps[3], steps[5]]
    assert len({worker for worker, _ in dedicated}) == 1
    assert [calls for _, calls in dedicated] == [1, 2, 3, 4]
    assert steps[1][1] == steps[4][1] == 1 and steps[1][0] != steps[4][0]


def test_a_script_run_of_a_dedicated_script_runs_dedicated(harness):
    value = script_flow_value("python3", BODY, {}, path="f/lib/count", dedicated=True)
    first, second = harness.run({"value": value}), harness.run({"value": value})
    assert first.result[0] == second.result[0]
    assert second.result[1] == 2


def test_a_script_file_is_dedicated_when_its_metadata_says_so(tmp_path: Path):
    (tmp_path / "f" / "lib").mkdir(parents=True)
    (tmp_path / "f/lib/hot.py").write_text(BODY)
    (tmp_path / "f/lib/hot.script.yaml").write_text("summary: hot\ndedicated_worker: true\n")
    (tmp_path / "f/lib/cold.py").write_text(BODY)
    (tmp_path / "f/lib/cold.script.yaml").write_text("summary: cold\n")
    (tmp_path / "f/lib/bad.py").write_text(BODY)
    (tmp_path / "f/lib/bad.script.yaml").write_text("summary: [unclosed\n")
    resolver = Resolver(None, [tmp_path])
    assert resolver.script_dedicated("f/lib/hot") is True
    assert resolver.script_dedicated("f/lib/cold") is False
    with pytest.raises(BadInput, match=r"bad\.script\.yaml is not valid YAML"):
        resolver.script_dedicated("f/lib/bad")


def test_a_dedicated_flows_bun_loop_body_runs_in_one_warm_process(harness):
    body = {"id": "body", "value": {"type": "rawscript", "language": "bun", "input_transforms": {}, "content": (
        "let calls = 0;\nconst WORKER = crypto.randomUUID();\n"
        "export async function main() {\n  calls += 1;\n  return [WORKER, calls];\n}\n")}}
    outcome = harness.run({**flow(for_loop("loop", "[1, 2, 3, 4, 5]", [body])), "dedicated_worker": True})
    assert outcome.status == "success", outcome.error
    assert len({worker for worker, _ in outcome.result}) == 1
    assert [calls for _, calls in outcome.result] == [1, 2, 3, 4, 5]
