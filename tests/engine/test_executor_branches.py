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


def branchall(step_id, *branches, **options):
    return {"id": step_id, "value": {"type": "branchall", "branches": [{"modules": m} for m in branches], **options}}


def test_sequential_branchall_stops_at_a_failing_branch(harness, tmp_path):
    marker = tmp_path / "ran.txt"
    module = branchall("b", [py("x", "def main():\n    raise KeyError('k')\n")],
                       [py("y", f"def main():\n    open({str(marker)!r}, 'w').write('y')\n    return 2\n")],
                       parallel=False)
    outcome = harness.run(flow(module))
    assert outcome.status == "failure"
    assert [entry["error"]["step_id"] for entry in outcome.result] == ["x"]
    assert not marker.exists()


def test_parallel_branchall_runs_every_branch_and_its_failure_holds_every_entry(harness):
    module = branchall("b", [expr_step("x", "1")], [py("y", "def main():\n    raise KeyError('k')\n")],
                       [expr_step("z", "3")])
    outcome = harness.run(flow(module, expr_step("after", "'never'")))
    assert outcome.status == "failure"
    assert outcome.result[0] == 1 and outcome.result[2] == 3
    assert outcome.result[1]["error"]["step_id"] == "y"
    assert "after" not in harness.engine.store.load_steps(outcome.run_id)


STOPS = py("s", "def main(n):\n    return n\n", n="js:flow_input.n")
STOPS["stop_after_if"] = {"expr": "result < 0"}


def test_stop_after_if_inside_a_sequential_branchall_stops_the_whole_flow(harness):
    module = branchall("b", [STOPS], [expr_step("t", "'second branch'")], parallel=False)
    document = flow(module, expr_step("after", "'last step saw ' + JSON.stringify(results.b)"))
    assert harness.run(document, {"n": 1}).result == "last step saw [1,\"second branch\"]"
    outcome = harness.run(document, {"n": -1})
    assert (outcome.status, outcome.result) == ("success", [-1])


def test_stop_after_if_inside_a_parallel_branchall_stops_the_flow_after_every_branch(harness):
    module = branchall("b", [STOPS], [expr_step("t", "'second branch'")])
    document = flow(module, expr_step("after", "'never'"))
    outcome = harness.run(document, {"n": -1})
    assert (outcome.status, outcome.result) == ("success", [-1, "second branch"])


def test_stop_after_if_inside_a_branchone_stops_the_whole_flow(harness):
    document = flow(branchone("b", [("true", [STOPS])], []), expr_step("after", "'never'"))
    assert harness.run(document, {"n": -1}).result == -1
