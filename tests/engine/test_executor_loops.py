"""For loops and while loops: order, failures, parallelism, early stops, nesting."""

from __future__ import annotations


from tests.flowkit import expr_step, flow, for_loop, peak_overlap, py, span_code, while_loop


def test_for_loop_result_is_an_array_in_iterator_order_with_iter_index_and_value(harness):
    document = flow(for_loop("l", "flow_input.items", [expr_step("s", "flow_input.iter.value * 10 + flow_input.iter.index")]))
    assert harness.run(document, {"items": [1, 2, 3]}).result == [10, 21, 32]


def test_first_step_of_an_iteration_gets_the_item_as_previous_result(harness):
    document = flow(for_loop("l", "['a', 'b']", [expr_step("s", "previous_result + '!'")]))
    assert harness.run(document).result == ["a!", "b!"]


def test_result_in_an_iterator_is_the_previous_result(harness):
    document = flow(py("a", "def main():\n    return {'items': [1, 2]}\n"),
                    for_loop("l", "result.items", [expr_step("s", "flow_input.iter.value * 3")]))
    assert harness.run(document).result == [3, 6]


def test_result_in_the_first_steps_iterator_is_the_flow_input(harness):
    document = flow(for_loop("l", "result.items", [expr_step("s", "flow_input.iter.value")]))
    assert harness.run(document, {"items": ["x", "y"]}).result == ["x", "y"]


def test_nested_loops_see_iter_parent(harness):
    inner = for_loop("inner", "[1, 2]", [expr_step("s", "flow_input.iter_parent.value + ':' + flow_input.iter.value")])
    document = flow(for_loop("outer", "['x', 'y']", [inner]))
    assert harness.run(document).result == [["x:1", "x:2"], ["y:1", "y:2"]]


def test_skip_failures_is_true_when_absent_and_keeps_error_objects(harness):
    body = [py("s", "def main(x):\n    if x == 2:\n        raise RuntimeError('two')\n    return x\n", x="js:flow_input.iter.value")]
    outcome = harness.run(flow(for_loop("l", "[1, 2, 3]", body)))
    assert outcome.status == "success"
    assert outcome.result[0] == 1 and outcome.result[2] == 3
    error = outcome.result[1]["error"]
    assert (error["name"], error["step_id"], error["iteration"]) == ("RuntimeError", "s", 1)


def test_skip_failures_false_fails_the_flow_with_the_partial_array(harness):
    body = [py("s", "def main(x):\n    if x == 2:\n        raise RuntimeError('two')\n    return x\n", x="js:flow_input.iter.value")]
    outcome = harness.run(flow(for_loop("l", "[1, 2, 3]", body, skip_failures=False)))
    assert outcome.status == "failure"
    assert outcome.result[0] == 1 and outcome.result[1]["error"]["message"] == "two"
    assert len(outcome.result) == 2


def test_parallel_loop_keeps_iteration_order_and_honours_parallelism(harness, tmp_path):
    log = tmp_path / "spans.txt"
    code = (
        "import time\n"
        "def main(x):\n"
        "    start = time.time()\n"
        "    time.sleep(0.3 - 0.05 * x)\n"
        f"    open({str(log)!r}, 'a').write(f'{{start}} {{time.time()}}\\n')\n"
        "    return x\n"
    )
    body = [py("s", code, x="js:flow_input.iter.value")]
    document = flow(for_loop("l", "[0, 1, 2, 3, 4, 5]", body, parallel=True, parallelism=2))
    outcome = harness.run(document)
    assert outcome.result == [0, 1, 2, 3, 4, 5]
    assert peak_overlap(log) == 2  # never more than `parallelism`, and really two at a time


def test_parallel_loop_without_parallelism_runs_all_at_once(harness, tmp_path):
    spans = tmp_path / "spans.txt"
    body = [py("s", span_code(str(spans), 0.4))]
    outcome = harness.run(flow(for_loop("l", "[1, 2, 3, 4]", body, parallel=True)))
    assert outcome.result == [1, 1, 1, 1]
    assert peak_overlap(spans) == 4


def test_stop_after_if_inside_a_sequential_loop_only_breaks_the_loop(harness):
    step = expr_step("s", "flow_input.iter.value")
    step["stop_after_if"] = {"expr": "result >= 2"}
    document = flow(for_loop("l", "[1, 2, 3, 4]", [step]), expr_step("after", "results.l.length"))
    outcome = harness.run(document)
    assert (outcome.status, outcome.result) == ("success", 2)


def test_while_loop_ends_by_stop_after_if_on_the_loop_step(harness):
    loop = while_loop("w", [expr_step("s", "flow_input.iter.index * 2")])
    loop["stop_after_if"] = {"expr": "result >= 6"}
    assert harness.run(flow(loop)).result == [0, 2, 4, 6]


def test_stop_after_all_iters_if_stops_the_flow_with_the_array(harness):
    loop = for_loop("l", "[1, 2]", [expr_step("s", "flow_input.iter.value")])
    loop["stop_after_all_iters_if"] = {"expr": "result.length == 2"}
    document = flow(loop, py("never", "def main():\n    raise Exception('ran')\n"))
    outcome = harness.run(document)
    assert (outcome.status, outcome.result) == ("success", [1, 2])


def test_iterator_that_is_not_an_array_fails_naming_the_loop(harness):
    outcome = harness.run(flow(for_loop("l", "({a: 1})", [expr_step("s", "1")])))
    assert outcome.status == "failure"
    assert "l" == outcome.result["error"]["step_id"]
    assert "not an array" in outcome.result["error"]["message"]


def test_results_inside_an_iteration_are_that_iterations(harness):
    body = [expr_step("a", "flow_input.iter.value"), expr_step("b", "results.a * 100")]
    document = flow(for_loop("l", "[1, 2, 3]", body, parallel=True))
    assert harness.run(document).result == [100, 200, 300]


def test_thousand_iteration_loop_completes(harness):
    document = flow(for_loop("l", "Array.from({length: 1000}, (_, i) => i)", [{"id": "i", "value": {"type": "identity"}}]))
    outcome = harness.run(document)
    assert outcome.result == list(range(1000))
