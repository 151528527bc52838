"""OpenFlow models: effective defaults, retry policy, editing and dumping."""

from __future__ import annotations

import pytest

from engine.openflow import (
    BranchAll,
    ExponentialRetry,
    FlowModule,
    ForloopFlow,
    Identity,
    JavascriptTransform,
    Retry,
    StaticTransform,
    WhileloopFlow,
    dump_flow,
    dump_value,
    flow_from_data,
)


def _step(value: dict, **options) -> dict:
    return {"id": "s", "value": value, **options}


def _module(value: dict, **options) -> FlowModule:
    doc = flow_from_data({"modules": [_step(value, **options)]})
    return doc.value.modules[0]


def _forloop(**fields) -> ForloopFlow:
    value = {"type": "forloopflow", "modules": [], "iterator": {"type": "static", "value": []}}
    return _module({**value, **fields}).value


def test_forloop_skip_failures_is_true_when_absent():
    assert _forloop().skip_failures is None
    assert _forloop().effective_skip_failures is True


def test_forloop_skip_failures_false_is_kept():
    assert _forloop(skip_failures=False).effective_skip_failures is False


def test_loops_are_sequential_when_parallel_is_absent():
    assert _forloop().effective_parallel is False
    assert _forloop(parallel=True).effective_parallel is True
    loop = _module({"type": "whileloopflow", "modules": []}).value
    assert isinstance(loop, WhileloopFlow)
    assert loop.effective_parallel is False


def test_while_loop_skip_failures_is_false_when_absent():
    loop = _module({"type": "whileloopflow", "modules": []}).value
    assert loop.effective_skip_failures is False
    loop = _module({"type": "whileloopflow", "modules": [], "skip_failures": True}).value
    assert loop.effective_skip_failures is True


def test_branchall_is_parallel_when_absent_and_branches_do_not_skip_failures():
    value = _module({"type": "branchall", "branches": [{"modules": []}]}).value
    assert isinstance(value, BranchAll)
    assert value.effective_parallel is True
    assert value.branches[0].effective_skip_failure is False
    value = _module({"type": "branchall", "parallel": False,
                     "branches": [{"modules": [], "skip_failure": True}]}).value
    assert value.effective_parallel is False
    assert value.branches[0].effective_skip_failure is True


def test_parallelism_and_sleep_take_a_number_or_a_transform():
    loop = _forloop(parallelism=3)
    assert loop.parallelism == 3
    loop = _forloop(parallelism={"type": "javascript", "expr": "flow_input.n"})
    assert isinstance(loop.parallelism, JavascriptTransform)
    module = _module({"type": "identity"}, sleep={"type": "static", "value": 2}, timeout=1.5)
    assert isinstance(module.sleep, StaticTransform) and module.sleep.value == 2
    assert module.timeout == 1.5


def test_integers_stay_integers_through_a_round_trip():
    doc = flow_from_data({"modules": [_step({"type": "identity"}, sleep=5, cache_ttl=60)]})
    dumped = dump_value(doc)["modules"][0]
    assert type(dumped["sleep"]) is int and type(dumped["cache_ttl"]) is int


def test_constant_retry_waits_the_same_each_time():
    retry = Retry.model_validate({"constant": {"attempts": 3, "seconds": 5}})
    assert retry.max_attempts == 3
    assert [retry.delay(n) for n in range(3)] == [5.0, 5.0, 5.0]


def test_exponential_retry_grows_as_multiplier_times_seconds_to_the_attempt():
    retry = Retry.model_validate({"exponential": {"attempts": 4, "multiplier": 3, "seconds": 2}})
    assert retry.max_attempts == 4
    assert [retry.delay(n) for n in range(4)] == [6.0, 12.0, 24.0, 48.0]


def test_exponential_retry_adds_injected_jitter_up_to_random_factor_percent():
    retry = Retry.model_validate(
        {"exponential": {"attempts": 2, "multiplier": 1, "seconds": 10, "random_factor": 50}}
    )
    assert retry.delay(0, jitter=lambda: 0.0) == 10.0
    assert retry.delay(0, jitter=lambda: 0.5) == 12.5
    assert retry.delay(1, jitter=lambda: 0.5) == 125.0


def test_exponential_retry_wins_over_constant_when_both_have_attempts():
    retry = Retry.model_validate({"constant": {"attempts": 5, "seconds": 1},
                                  "exponential": {"attempts": 2, "multiplier": 1, "seconds": 3}})
    assert isinstance(retry.active, ExponentialRetry)
    assert retry.max_attempts == 2
    assert retry.delay(0) == 3.0


def test_constant_retry_applies_when_exponential_has_no_attempts():
    retry = Retry.model_validate({"constant": {"attempts": 2, "seconds": 4},
                                  "exponential": {"attempts": 0, "multiplier": 1, "seconds": 3}})
    assert retry.max_attempts == 2
    assert retry.delay(1) == 4.0


def test_retry_without_attempts_never_retries():
    assert Retry().max_attempts == 0
    assert Retry.model_validate({"constant": {"attempts": 0, "seconds": 9}}).delay(0) == 0.0


def test_unknown_fields_are_readable_as_extras():
    module = _module({"type": "identity", "x_kind": "noop"}, x_position={"x": 1})
    assert module.model_extra == {"x_position": {"x": 1}}
    assert module.value.model_extra == {"x_kind": "noop"}


def test_dump_keeps_loaded_key_order_and_puts_new_fields_last():
    doc = flow_from_data({"modules": [{"summary": "first", "value": {"type": "identity"}, "id": "a"}]})
    doc.value.modules[0].continue_on_error = True
    assert list(dump_value(doc)["modules"][0]) == ["summary", "value", "id", "continue_on_error"]


def test_models_built_in_code_dump_only_what_was_set():
    module = FlowModule(id="a", value=Identity(type="identity"))
    assert module.model_dump(exclude_unset=True) == {"id": "a", "value": {"type": "identity"}}


def test_dump_of_a_bare_value_is_a_full_document():
    doc = flow_from_data({"modules": []})
    assert dump_flow(doc) == {"value": {"modules": []}}
    assert dump_value(doc) == {"modules": []}


def test_schema_field_is_exposed_as_schema_underscore():
    doc = flow_from_data({"summary": "s", "value": {"modules": []}, "schema": {"type": "object"}})
    assert doc.schema_ == {"type": "object"}
    assert dump_flow(doc)["schema"] == {"type": "object"}


@pytest.mark.parametrize("value", ["3", 3.5, True])
def test_retry_attempts_must_be_an_integer(value):
    with pytest.raises(ValueError):
        Retry.model_validate({"constant": {"attempts": value, "seconds": 1}})
