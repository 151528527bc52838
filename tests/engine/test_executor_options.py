"""Per-step options: stop_after_if, skip_if, retry, failure_module, continue_on_error,
mock, sleep and timeout."""

from __future__ import annotations

import time

import pytest

from tests.flowkit import counter_code, expr_step, flow, for_loop, py

ALWAYS_FAILS = "def main():\n    raise RuntimeError('nope')\n"


def test_top_level_stop_after_if_ends_the_flow_with_that_result(harness):
    first = expr_step("a", "flow_input.x")
    first["stop_after_if"] = {"expr": "result > 3"}
    document = flow(first, py("never", ALWAYS_FAILS))
    outcome = harness.run(document, {"x": 5})
    assert (outcome.status, outcome.result) == ("success", 5)
    assert harness.run(document, {"x": 1}).status == "failure"


def test_error_message_turns_an_early_stop_into_an_early_stop_error(harness):
    first = expr_step("a", "'value'")
    first["stop_after_if"] = {"expr": "true", "error_message": "stopped on purpose", "error_include_result": True}
    outcome = harness.run(flow(first, expr_step("b", "1")))
    assert outcome.status == "failure"
    error = outcome.result["error"]
    assert (error["name"], error["message"], error["step_id"], error["result"]) == (
        "EarlyStopError", "stopped on purpose", "a", "value")


def test_skip_if_passes_the_previous_result_through(harness):
    skipped = py("b", ALWAYS_FAILS)
    skipped["skip_if"] = {"expr": "previous_result === 'x'"}
    outcome = harness.run(flow(expr_step("a", "'x'"), skipped))
    assert (outcome.status, outcome.result) == ("success", "x")
    assert harness.engine.store.load_steps(outcome.run_id)["b"].status == "skipped"


def test_retry_attempts_counts_retries_with_constant_delay(harness, tmp_path, clock):
    marker = tmp_path / "runs.txt"
    step = py("a", counter_code(str(marker)).replace("return n", "raise RuntimeError(f'run {n}')"))
    step["retry"] = {"constant": {"attempts": 3, "seconds": 7}}
    outcome = harness.run(flow(step))
    assert outcome.status == "failure"
    assert len(marker.read_text().splitlines()) == 4
    assert outcome.result["error"]["message"] == "run 4"
    assert clock.slept == [7, 7, 7]


def test_exponential_retry_waits_multiplier_times_seconds_to_the_n_plus_one(harness, tmp_path, clock):
    marker = tmp_path / "runs.txt"
    step = py("a", counter_code(str(marker), "n if n >= 3 else 1 / 0"))
    step["retry"] = {"exponential": {"attempts": 5, "multiplier": 2, "seconds": 3}}
    outcome = harness.run(flow(step))
    assert (outcome.status, outcome.result) == ("success", 3)
    assert clock.slept == [2 * 3 ** 1, 2 * 3 ** 2]


def test_retrying_a_loop_reruns_the_whole_loop(harness, tmp_path):
    marker = tmp_path / "runs.txt"
    body = [py("s", counter_code(str(marker), "n if n >= 4 else 1 / 0"))]
    loop = for_loop("l", "[1, 2]", body, skip_failures=False)
    loop["retry"] = {"constant": {"attempts": 3, "seconds": 0}}
    outcome = harness.run(flow(loop))
    # three failed attempts stop at the first iteration; the fourth re-runs both
    assert (outcome.status, outcome.result) == ("success", [4, 5])
    assert len(marker.read_text().splitlines()) == 5


def test_failure_module_gets_the_error_and_the_flow_stays_failed(harness):
    handler = py("failure", "def main(e):\n    return {'seen': e['error']['step_id'], 'msg': e['error']['message']}\n",
                 e="js:previous_result")
    outcome = harness.run(flow(py("a", ALWAYS_FAILS), failure_module=handler))
    assert outcome.status == "failure"
    assert outcome.result == {"seen": "a", "msg": "nope"}


def test_failure_module_returning_recover_true_recovers_the_flow(harness):
    handler = py("failure", "def main(e):\n    return {'recover': True, 'from': e['error']['name']}\n", e="js:previous_result")
    outcome = harness.run(flow(py("a", ALWAYS_FAILS), failure_module=handler))
    assert (outcome.status, outcome.result) == ("success", {"recover": True, "from": "RuntimeError"})


def test_failure_module_may_itself_retry(harness, tmp_path):
    marker = tmp_path / "runs.txt"
    handler = py("failure", counter_code(str(marker), "{'recover': True} if n >= 2 else 1 / 0"))
    handler["retry"] = {"constant": {"attempts": 1, "seconds": 0}}
    outcome = harness.run(flow(py("a", ALWAYS_FAILS), failure_module=handler))
    assert outcome.status == "success"
    assert len(marker.read_text().splitlines()) == 2


def test_continue_on_error_makes_the_error_object_the_result(harness):
    step = py("a", ALWAYS_FAILS)
    step["continue_on_error"] = True
    outcome = harness.run(flow(step, expr_step("b", "results.a.error.message")))
    assert (outcome.status, outcome.result) == ("success", "nope")


def test_mock_returns_its_value_without_running(harness):
    step = py("a", ALWAYS_FAILS)
    step["mock"] = {"enabled": True, "return_value": {"mocked": 1}}
    outcome = harness.run(flow(step))
    assert (outcome.status, outcome.result) == ("success", {"mocked": 1})


def test_sleep_waits_after_the_step(harness, clock):
    step = expr_step("a", "1")
    step["sleep"] = {"type": "javascript", "expr": "flow_input.wait"}
    assert harness.run(flow(step, expr_step("b", "2")), {"wait": 42}).result == 2
    assert clock.slept == [42.0]


def test_per_step_timeout_kills_a_slow_script(harness):
    step = py("slow", "import time\ndef main():\n    time.sleep(30)\n")
    step["timeout"] = 0.5
    began = time.monotonic()
    outcome = harness.run(flow(step))
    assert outcome.status == "failure"
    assert outcome.result["error"]["step_id"] == "slow"
    assert "timed out" in outcome.result["error"]["message"].lower() or outcome.result["error"]["name"] == "TimeoutError"
    assert time.monotonic() - began < 5


PREPROCESSOR_SCRIPTS = {
    "python3": "def preprocessor(x: int):\n    return {'x': x + 100}\n",
    "bun": "export async function preprocessor(x: number) {\n  return { x: x + 100 }\n}\n",
}


@pytest.mark.parametrize("language", sorted(PREPROCESSOR_SCRIPTS))
def test_preprocessor_function_of_the_preprocessor_step_turns_a_webhook_payload_into_args(harness, language):
    pre = {"value": {"type": "rawscript", "language": language, "content": PREPROCESSOR_SCRIPTS[language],
                     "input_transforms": {"x": {"type": "javascript", "expr": "flow_input.x"}}}}
    document = flow(expr_step("a", "flow_input.x"), preprocessor_module=pre)
    assert harness.run(document, {"x": 1}, trigger="webhook").result == 101
    assert harness.run(document, {"x": 1}).result == 1
