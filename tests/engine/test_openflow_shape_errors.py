"""A malformed flow is refused with every problem at its Windmill-style path."""

from __future__ import annotations

import pytest

from engine.errors import FlowValidationError
from engine.openflow import MODULE_TYPES, flow_from_data

ALLOWED = "rawscript, script, flow, forloopflow, whileloopflow, branchone, branchall, identity"


def _issues(modules: list, **value_fields) -> list[str]:
    with pytest.raises(FlowValidationError) as caught:
        flow_from_data({"summary": "t", "value": {"modules": modules, **value_fields}})
    return [str(issue) for issue in caught.value.issues]


def _script(**fields) -> dict:
    return {"type": "rawscript", "content": "def main():\n    return 1\n", "language": "python3",
            "input_transforms": {}, **fields}


def _ok(step_id: str = "ok") -> dict:
    return {"id": step_id, "value": _script()}


def test_missing_iterator_is_reported_at_its_path():
    loop = {"id": "l", "value": {"type": "forloopflow", "modules": []}}
    assert _issues([_ok("a"), _ok("b"), loop]) == ["value.modules[2].value.iterator: field required"]


def test_unknown_module_type_gets_one_message_with_allowed_types():
    issues = _issues([{"id": "a", "value": {"type": "forloop", "modules": []}}])
    assert issues == [f"value.modules[0].value.type: unknown module type 'forloop'; allowed: {ALLOWED}"]
    assert ALLOWED == ", ".join(MODULE_TYPES)


def test_missing_module_type_names_the_allowed_types():
    assert _issues([{"id": "a", "value": {"content": "x"}}]) == [
        f"value.modules[0].value.type: field required; allowed module types: {ALLOWED}"
    ]


def test_every_error_is_listed_not_just_the_first():
    modules = [
        {"id": "a", "value": _script(language=3)},
        {"id": "b", "value": {"type": "rawscript", "language": "python3", "input_transforms": {}}},
        {"id": "c", "value": {"type": "script", "input_transforms": {}}},
    ]
    assert _issues(modules) == [
        "value.modules[0].value.language: input should be a valid string, got 3",
        "value.modules[1].value.content: field required",
        "value.modules[2].value.path: field required",
    ]


def test_errors_deep_in_nested_steps_have_full_paths():
    inner = {"id": "x", "value": {"type": "branchone", "default": [],
                                  "branches": [{"modules": [{"id": 7, "value": {"type": "identity"}}]}]}}
    loop = {"id": "l", "value": {"type": "whileloopflow", "modules": [inner]}}
    assert _issues([loop]) == [
        "value.modules[0].value.modules[0].value.branches[0].expr: field required",
        "value.modules[0].value.modules[0].value.branches[0].modules[0].id: "
        "input should be a valid string, got 7",
    ]


def test_branchone_needs_a_default_and_branchall_branches_need_modules():
    modules = [
        {"id": "one", "value": {"type": "branchone", "branches": []}},
        {"id": "all", "value": {"type": "branchall", "branches": [{"summary": "s"}]}},
    ]
    assert _issues(modules) == [
        "value.modules[0].value.default: field required",
        "value.modules[1].value.branches[0].modules: field required",
    ]


def test_unknown_input_transform_type_names_the_allowed_types():
    step = {"id": "a", "value": _script(input_transforms={"x": {"type": "js", "expr": "1"}})}
    assert _issues([step]) == [
        "value.modules[0].value.input_transforms.x.type: "
        "unknown input transform type 'js'; allowed: static, javascript"
    ]


def test_javascript_transform_needs_an_expr_and_transform_needs_a_type():
    transforms = {"x": {"type": "javascript"}, "y": {"value": 1}}
    assert _issues([{"id": "a", "value": _script(input_transforms=transforms)}]) == [
        "value.modules[0].value.input_transforms.x.expr: field required",
        "value.modules[0].value.input_transforms.y.type: "
        "field required; allowed input transform types: static, javascript",
    ]


def test_iterator_with_bad_transform_type_is_reported():
    loop = {"id": "l", "value": {"type": "forloopflow", "modules": [],
                                 "iterator": {"type": "python", "expr": "[1]"}}}
    assert _issues([loop]) == [
        "value.modules[0].value.iterator.type: "
        "unknown input transform type 'python'; allowed: static, javascript"
    ]


def test_sleep_must_be_a_number_or_a_transform():
    step = {**_ok(), "sleep": "soon"}
    assert _issues([step]) == [
        'value.modules[0].sleep: input should be a number or an input transform '
        '({"type": "static", "value": ...} or {"type": "javascript", "expr": ...}), got \'soon\''
    ]


def test_timeout_transform_errors_point_inside_the_transform():
    assert _issues([{**_ok(), "timeout": {"type": "javascript"}}]) == [
        "value.modules[0].timeout.expr: field required"
    ]


def test_retry_fields_are_checked_with_paths():
    retry = {"constant": {"attempts": "3", "seconds": -1},
             "exponential": {"attempts": 1, "random_factor": 150}}
    assert _issues([{**_ok(), "retry": retry}]) == [
        "value.modules[0].retry.constant.attempts: input should be a valid integer, got '3'",
        "value.modules[0].retry.constant.seconds: input should be greater than or equal to 0, got -1",
        "value.modules[0].retry.exponential.random_factor: "
        "input should be less than or equal to 100, got 150",
    ]


def test_step_options_with_wrong_shapes_are_reported():
    step = {**_ok(), "stop_after_if": {"skip_if_stopped": True}, "skip_if": "x > 1",
            "priority": True, "suspend": {"required_events": "one"}, "mock": {"enabled": "yes"}}
    assert _issues([step]) == [
        "value.modules[0].stop_after_if.expr: field required",
        "value.modules[0].skip_if: input should be an object, got 'x > 1'",
        "value.modules[0].mock.enabled: input should be a valid boolean, got 'yes'",
        "value.modules[0].suspend.required_events: input should be a valid integer, got 'one'",
        "value.modules[0].priority: input should be a number, got True",
    ]


def test_flow_options_are_checked():
    issues = _issues([_ok()], flow_env=["A"], same_worker="no",
                     failure_module={"id": 1, "value": {"type": "identity"}})
    assert issues == [
        "value.failure_module.id: input should be a valid string, got 1",
        "value.same_worker: input should be a valid boolean, got 'no'",
        "value.flow_env: input should be an object, got a list",
    ]


def test_module_that_is_not_an_object_is_reported():
    assert _issues([_ok(), 5, {"id": "a", "value": "identity"}]) == [
        "value.modules[1]: input should be an object, got 5",
        "value.modules[2].value: input should be an object, got 'identity'",
    ]


def test_modules_must_be_a_list():
    with pytest.raises(FlowValidationError) as caught:
        flow_from_data({"modules": {"id": "a"}})
    assert [str(issue) for issue in caught.value.issues] == [
        "value.modules: input should be a valid list, got an object"
    ]


def test_odd_keys_are_quoted_in_paths():
    transforms = {"my input": {"type": "javascript"}}
    assert _issues([{"id": "a", "value": _script(input_transforms=transforms)}]) == [
        'value.modules[0].value.input_transforms["my input"].expr: field required'
    ]


def test_error_message_lists_the_issues():
    with pytest.raises(FlowValidationError) as caught:
        flow_from_data({"modules": [{"id": "a"}]})
    assert str(caught.value) == "invalid flow (1 error(s)):\n  value.modules[0].value: field required"


def test_a_list_where_an_object_belongs_is_named():
    assert _issues([{**_ok(), "retry": []}]) == [
        "value.modules[0].retry: input should be an object, got a list"
    ]


def test_map_keys_that_look_like_step_types_stay_in_paths():
    transforms = {"identity": {"type": "javascript"}, "type": {"type": "javascript", "expr": 1}}
    step = {"id": "a", "value": _script(input_transforms=transforms)}
    assert _issues([step]) == [
        "value.modules[0].value.input_transforms.identity.expr: field required",
        "value.modules[0].value.input_transforms.type.expr: input should be a valid string, got 1",
    ]
