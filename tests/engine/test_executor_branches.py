"""Branch to one and branch to all."""

from __future__ import annotations


from tests.flowkit import expr_step, flow, peak_overlap, py, span_code


def branchone(step_id, branches, default):
    return {"id": step_id, "value": {"type": "branchone", "branches": [{"expr": e, "modules": m} for e, m in branches],
                                      "default": default}}


def test_branchone_runs_the_first_truthy_branch(harness):
    module = branchone("b", [("flow_input.n > 10", [expr_step("big", "'big'")]),
                             ("flow_input.n > 1", [expr_step("mid", "'mid'")]),
                             ("true", [expr_step("any", "'any'")])], [expr_step("small", "'small'")])
    assert harness.run(flow(module), {"n": 5}).result == "mid"
    assert harness.run(flow(module), {"n": 50}).result == "big"


def test_branchone_falls_back_to_default(harness):
    module = branchone("b", [("flow_input.n > 10", [expr_step("big", "'big'")])], [expr_step("small", "'small'")])
    assert harness.run(flow(module), {"n": 1}).result == "small"


def test_branchall_returns_one_entry_per_branch_in_order(harness):
    module = {"id": "b", "value": {"type": "branchall", "branches": [
        {"modules": [expr_step("x", "1")]}, {"modules": [expr_step("y", "2")]}, {"modules": []}]}}
    assert harness.run(flow(expr_step("first", "0"), module)).result == [1, 2, 0]


def test_branchall_is_parallel_when_parallel_is_absent(harness, tmp_path):
    spans = tmp_path / "spans.txt"
    sleeper = span_code(str(spans), 0.4)
    module = {"id": "b", "value": {"type": "branchall", "branches": [
        {"modules": [py("x", sleeper)]}, {"modules": [py("y", sleeper)]}, {"modules": [py("z", sleeper)]}]}}
    assert harness.run(flow(module)).result == [1, 1, 1]
    assert peak_overlap(spans) == 3


def test_branchall_failure_fails_unless_skip_failure(harness):
    failing = py("x", "def main():\n    raise KeyError('k')\n")
    module = {"id": "b", "value": {"type": "branchall", "parallel": False, "branches": [
        {"modules": [failing], "skip_failure": True}, {"modules": [expr_step("y", "2")]}]}}
    outcome = harness.run(flow(module))
    assert outcome.status == "success"
    assert outcome.result[0]["error"]["step_id"] == "x" and outcome.result[1] == 2
    module["value"]["branches"][0]["skip_failure"] = False
    assert harness.run(flow(module)).status == "failure"
