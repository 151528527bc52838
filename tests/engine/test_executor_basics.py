"""Sequences, expressions between steps, script kinds, subflows and error objects."""

from __future__ import annotations

import time

from tests.flowkit import bash, expr_step, flow, py


def test_steps_chain_previous_result_and_first_step_gets_flow_input(harness):
    document = flow(
        py("a", "def main(x):\n    return x['n'] + 1\n", x="js:previous_result"),
        py("b", "def main(x):\n    return x * 10\n", x="js:previous_result"),
    )
    outcome = harness.run(document, {"n": 4})
    assert (outcome.status, outcome.result) == ("success", 50)


def test_results_of_any_earlier_step_and_unknown_ids_are_null(harness):
    document = flow(
        py("a", "def main():\n    return {'v': [7, 8]}\n"),
        py("b", "def main():\n    return 'b'\n"),
        expr_step("c", "[results.a.v[1], results.b, results.nope, flow_input.k]"),
    )
    assert harness.run(document, {"k": "K"}).result == [8, "b", None, "K"]


def test_identity_passes_previous_result_through(harness):
    document = flow(py("a", "def main():\n    return 3\n"), {"id": "i", "value": {"type": "identity"}})
    assert harness.run(document).result == 3


def test_result_in_an_input_transform_is_the_previous_result(harness):
    document = flow(py("a", "def main():\n    return {'n': 2}\n"), expr_step("b", "result.n + previous_result.n"))
    assert harness.run(document).result == 4


def test_steps_without_ids_and_inputs_run_as_windmill_runs_them(harness):
    document = {"value": {"modules": [
        {"value": {"type": "rawscript", "language": "python3", "content": "def main():\n    return 42\n"}},
        {"value": {"type": "identity"}},
        {"value": {"type": "rawscript", "language": "python3", "content": "def main(x):\n    return [x]\n",
                   "input_transforms": {"x": {"type": "javascript", "expr": "previous_result + 1"}}}},
    ]}}
    outcome = harness.run(document)
    assert (outcome.status, outcome.result) == ("success", [43])
    assert set(harness.engine.store.load_steps(outcome.run_id)) == {"a", "b", "c"}


def test_bash_step_gets_positional_args_and_json_last_line(harness):
    code = 'name="$1"\ncount="$2"\necho "hello $name"\necho "{\\"n\\": $count}"\n'
    document = flow(bash("b", code, name="ada", count="js:flow_input.c"))
    assert harness.run(document, {"c": 3}).result == {"n": 3}


def test_failing_step_gives_an_error_object_naming_the_step(harness):
    document = flow(
        py("ok", "def main():\n    return 1\n"),
        py("boom", "def main():\n    raise ValueError('bad value')\n"),
        py("never", "def main():\n    return 2\n"),
    )
    outcome = harness.run(document)
    assert outcome.status == "failure"
    error = outcome.result["error"]
    assert (error["name"], error["message"], error["step_id"]) == ("ValueError", "bad value", "boom")
    assert "Traceback" in error["stack"] or "line" in error["stack"]
    steps = harness.engine.store.load_steps(outcome.run_id)
    assert "never" not in steps


def test_expression_that_never_ends_fails_its_step_and_the_engine_goes_on(harness):
    document = flow(py("a", "def main(x):\n    return x\n", x="js:(() => { while(true){} })()"))
    outcome = harness.run(document)
    assert outcome.status == "failure"
    assert outcome.result["error"]["step_id"] == "a"
    assert "time" in outcome.result["error"]["message"].lower()
    again = harness.run(flow(expr_step("b", "1 + 1")))
    assert again.result == 2


def test_backtracking_regex_fails_its_step_at_the_limit_and_the_engine_goes_on(harness):
    regex = 'js:/(a+)+$/.test("a".repeat(40) + "b")'
    document = flow(py("parse", "def main(x):\n    return x\n", x=regex), py("never", "def main():\n    return 1\n"))
    started = time.monotonic()
    outcome = harness.run(document)
    assert time.monotonic() - started < 1.0
    assert outcome.status == "failure"
    error = outcome.result["error"]
    assert (error["name"], error["step_id"]) == ("ExpressionError", "parse")
    assert error["message"].startswith("step parse, input x: expression ")
    assert error["message"].endswith("failed: ran longer than its time limit of 0.1 s")
    assert "never" not in harness.engine.store.load_steps(outcome.run_id)
    again = harness.run(flow(expr_step("next", "[1, 2].map(x => x * 3)")))
    assert (again.status, again.result) == ("success", [3, 6])


def test_script_and_flow_modules_resolve_paths_from_files(harness, tmp_path):
    (tmp_path / "f" / "lib").mkdir(parents=True)
    (tmp_path / "f" / "lib" / "double.py").write_text("def main(x: int):\n    return 2 * x\n")
    (tmp_path / "f" / "lib" / "sub.flow.json").write_text(
        '{"summary": "sub", "value": {"modules": [{"id": "s", "value": {"type": "script", '
        '"path": "f/lib/double", "input_transforms": {"x": {"type": "javascript", "expr": "flow_input.y"}}}}]},'
        ' "schema": {"type": "object", "properties": {"y": {"type": "integer", "default": 5}}}}'
    )
    engine = harness.new(script_roots=[tmp_path])
    document = flow(
        {"id": "a", "value": {"type": "script", "path": "f/lib/double",
                              "input_transforms": {"x": {"type": "static", "value": 21}}}},
        {"id": "b", "value": {"type": "flow", "path": "f/lib/sub", "input_transforms": {}}},
        expr_step("c", "[results.a, results.b]"),
    )
    assert harness.run(document, engine=engine).result == [42, 10]


def test_missing_script_path_fails_the_step_with_a_clear_message(harness):
    document = flow({"id": "a", "value": {"type": "script", "path": "f/none/here", "input_transforms": {}}})
    outcome = harness.run(document)
    assert outcome.status == "failure"
    assert "f/none/here" in outcome.result["error"]["message"]


def test_flow_env_and_skip_expr(harness):
    document = flow(expr_step("a", "flow_env.REGION + '-' + flow_input.x"), flow_env={"REGION": "eu"})
    assert harness.run(document, {"x": "1"}).result == "eu-1"
    typed = flow(expr_step("a", "[flow_env.ON, flow_env.N + 1, flow_env.CONF.url, flow_env.NONE]"),
                 flow_env={"ON": True, "N": 30, "CONF": {"url": "u"}, "NONE": None})
    assert harness.run(typed).result == [True, 31, "u", None]
    skipped = flow(py("a", "def main():\n    raise Exception('ran')\n"), skip_expr="flow_input.skip === true")
    outcome = harness.run(skipped, {"skip": True})
    assert (outcome.status, outcome.result) == ("success", None)


def test_same_worker_steps_share_a_shared_folder(harness):
    document = flow(
        py("w", "def main():\n    open('./shared/note.txt', 'w').write('kept')\n    return 1\n"),
        py("r", "def main():\n    return open('./shared/note.txt').read()\n"),
        same_worker=True,
    )
    assert harness.run(document).result == "kept"


def test_run_records_args_status_result_timings_steps_and_logs(harness):
    document = flow(py("a", "def main(x):\n    print('working on', x)\n    return x\n", x="js:flow_input.x"))
    outcome = harness.run(document, {"x": 9})
    store = harness.engine.store
    run = store.get_run(outcome.run_id)
    assert (run.status, run.result, run.args) == ("success", 9, {"x": 9})
    assert run.started_at is not None and run.finished_at is not None
    steps = store.load_steps(outcome.run_id)
    assert steps["a"].status == "success" and steps["a"].result == 9
    lines = [line.line for line in store.get_logs(outcome.run_id)]
    assert lines == ["working on 9"]
