"""Semantic rules of a flow: step ids, expression and script hooks, and the tree walk."""

from __future__ import annotations

import pytest

from engine.errors import ExpressionSyntaxError, FlowValidationError, ScriptLoadError
from engine.openflow import (
    RESERVED_IDS,
    flow_from_data,
    iter_expressions,
    iter_modules,
    iter_rawscripts,
    validate_flow,
)


def _script(content: str = "def main():\n    return 1\n", **transforms) -> dict:
    return {"type": "rawscript", "content": content, "language": "python3",
            "input_transforms": {k: {"type": "javascript", "expr": v} for k, v in transforms.items()}}


def _step(step_id: str, **options) -> dict:
    return {"id": step_id, "value": _script(), **options}


def _loop(step_id: str, modules: list) -> dict:
    return {"id": step_id, "value": {"type": "forloopflow", "modules": modules,
                                     "iterator": {"type": "javascript", "expr": "flow_input.items"}}}


def _issues(value: dict, **hooks) -> list[str]:
    with pytest.raises(FlowValidationError) as caught:
        validate_flow(flow_from_data(value), **hooks)
    return [str(issue) for issue in caught.value.issues]


def test_a_valid_flow_passes():
    validate_flow(flow_from_data({"modules": [_step("a"), _loop("b", [_step("c")])]}))


def test_duplicate_ids_name_both_paths():
    value = {"modules": [_step("a"), _loop("b", [_step("a")])]}
    assert _issues(value) == [
        "value.modules[1].value.modules[0].id: duplicate step id 'a': also used at value.modules[0]"
    ]


def test_duplicate_ids_across_branches_and_failure_module_are_found():
    branches = {"id": "br", "value": {"type": "branchone", "branches": [
        {"expr": "true", "modules": [_step("x")]}], "default": [_step("x")]}}
    value = {"modules": [branches], "failure_module": _step("br")}
    assert _issues(value) == [
        "value.modules[0].value.default[0].id: duplicate step id 'x': "
        "also used at value.modules[0].value.branches[0].modules[0]",
        "value.failure_module.id: duplicate step id 'br': also used at value.modules[0]",
    ]


def test_duplicate_id_with_preprocessor_is_found():
    value = {"modules": [_step("prep")], "preprocessor_module": _step("prep")}
    assert _issues(value) == [
        "value.modules[0].id: duplicate step id 'prep': also used at value.preprocessor_module"
    ]


@pytest.mark.parametrize("step_id", ["failure", "preprocessor", "Input", "Result", "Trigger",
                                     "class", "return", "this", "null"])
def test_reserved_ids_are_refused_for_ordinary_steps(step_id):
    assert _issues({"modules": [_step(step_id)]}) == [
        f"value.modules[0].id: step id {step_id!r} is reserved; choose another id"
    ]


def test_failure_and_preprocessor_ids_are_allowed_on_their_own_steps():
    value = {"modules": [_step("a")], "failure_module": _step("failure"),
             "preprocessor_module": _step("preprocessor")}
    validate_flow(flow_from_data(value))


def test_failure_id_is_refused_on_the_preprocessor_step():
    value = {"modules": [_step("a")], "preprocessor_module": _step("failure")}
    assert _issues(value) == [
        "value.preprocessor_module.id: step id 'failure' is reserved; choose another id"
    ]


@pytest.mark.parametrize("step_id", ["1a", "a-b", "a b", "", "ä", "a\n"])
def test_ids_must_be_identifiers(step_id):
    assert _issues({"modules": [_step(step_id)]}) == [
        f"value.modules[0].id: step id {step_id!r} is not an identifier: use letters, digits "
        "and _, not starting with a digit, so that results.<id> works"
    ]


def test_javascript_reserved_words_are_reserved():
    assert {"if", "while", "function", "await", "yield"} <= RESERVED_IDS


def test_early_return_must_name_a_step():
    value = {"modules": [_step("a")], "early_return": "b"}
    assert _issues(value) == ["value.early_return: no step has id 'b'"]


def test_all_id_issues_are_reported_together():
    value = {"modules": [_step("1x"), _step("Input"), _step("ok"), _step("ok")]}
    assert len(_issues(value)) == 3


FULL = {
    "modules": [
        {"id": "a", "value": _script(x="flow_input.x"), "skip_if": {"expr": "flow_input.skip"},
         "stop_after_if": {"expr": "result > 1"}, "sleep": {"type": "javascript", "expr": "1 + 1"},
         "timeout": {"type": "javascript", "expr": "flow_input.t"},
         "retry": {"constant": {"attempts": 1, "seconds": 1}, "retry_if": {"expr": "result.retry"}},
         "suspend": {"user_groups_required": {"type": "javascript", "expr": "['g']"}}},
        {"id": "l", "value": {"type": "forloopflow", "modules": [_step("in_loop")],
                              "iterator": {"type": "javascript", "expr": "flow_input.items"},
                              "parallelism": {"type": "javascript", "expr": "flow_input.n"}},
         "stop_after_all_iters_if": {"expr": "result.length > 2"}},
        {"id": "b1", "value": {"type": "branchone", "default": [],
                               "branches": [{"expr": "flow_input.x > 1", "modules": []}]}},
        {"id": "b2", "value": {"type": "branchall",
                               "branches": [{"modules": []}, {"expr": "flow_input.y", "modules": []}]}},
        {"id": "s", "value": {"type": "script", "path": "f/a/b",
                              "input_transforms": {"p": {"type": "javascript", "expr": "results.a"},
                                                   "q": {"type": "static", "value": "not js"}}}},
        {"id": "f", "value": {"type": "flow", "path": "f/a/c",
                              "input_transforms": {"r": {"type": "javascript", "expr": "results.s"}}}},
    ],
    "skip_expr": "flow_input.off",
    "failure_module": {"id": "failure", "value": _script(m="error.message")},
}


def test_iter_expressions_finds_every_javascript_expression():
    found = dict(iter_expressions(flow_from_data(FULL)))
    assert found == {
        "value.skip_expr": "flow_input.off",
        "value.modules[0].value.input_transforms.x.expr": "flow_input.x",
        "value.modules[0].skip_if.expr": "flow_input.skip",
        "value.modules[0].stop_after_if.expr": "result > 1",
        "value.modules[0].retry.retry_if.expr": "result.retry",
        "value.modules[0].sleep.expr": "1 + 1",
        "value.modules[0].timeout.expr": "flow_input.t",
        "value.modules[0].suspend.user_groups_required.expr": "['g']",
        "value.modules[1].value.iterator.expr": "flow_input.items",
        "value.modules[1].value.parallelism.expr": "flow_input.n",
        "value.modules[1].stop_after_all_iters_if.expr": "result.length > 2",
        "value.modules[2].value.branches[0].expr": "flow_input.x > 1",
        "value.modules[3].value.branches[1].expr": "flow_input.y",
        "value.modules[4].value.input_transforms.p.expr": "results.a",
        "value.modules[5].value.input_transforms.r.expr": "results.s",
        "value.failure_module.value.input_transforms.m.expr": "error.message",
    }


def test_expression_hook_errors_become_issues_at_their_paths():
    def check_expression(expr: str, where: str) -> None:
        if "items" in expr or "off" in expr:
            raise ExpressionSyntaxError("unexpected token", expr=expr, where=where, position=3)

    assert _issues(FULL, check_expression=check_expression) == [
        "value.skip_expr: syntax error in expression 'flow_input.off' at position 3: unexpected token",
        "value.modules[1].value.iterator.expr: "
        "syntax error in expression 'flow_input.items' at position 3: unexpected token",
    ]


def test_expression_hook_is_called_for_every_expression():
    seen: list[tuple[str, str]] = []
    validate_flow(flow_from_data(FULL), check_expression=lambda e, w: seen.append((w, e)))
    assert seen == list(iter_expressions(flow_from_data(FULL)))


def test_script_hook_errors_become_issues_at_the_script_content():
    calls: list[tuple[str, str]] = []

    def check_script(language: str, content: str, where: str) -> None:
        calls.append((language, where))
        if "main" not in content:
            raise ScriptLoadError("no main function")

    value = {"modules": [_step("a"), _loop("l", [{"id": "b", "value": _script("x = 1\n")}])]}
    assert _issues(value, check_script=check_script) == [
        "value.modules[1].value.modules[0].value.content: no main function"
    ]
    assert calls == [("python3", "value.modules[0].value.content"),
                     ("python3", "value.modules[1].value.modules[0].value.content")]


def test_hook_errors_that_are_not_bad_input_propagate():
    def broken(expr: str, where: str) -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        validate_flow(flow_from_data(FULL), check_expression=broken)


def test_id_and_hook_issues_are_reported_together():
    def refuse(expr: str, where: str) -> None:
        raise ExpressionSyntaxError("bad", expr=expr, where=where)

    value = {"modules": [{"id": "1a", "value": _script(x="(")}]}
    assert _issues(value, check_expression=refuse) == [
        "value.modules[0].id: step id '1a' is not an identifier: use letters, digits and _, "
        "not starting with a digit, so that results.<id> works",
        "value.modules[0].value.input_transforms.x.expr: syntax error in expression '(': bad",
    ]


def test_iter_modules_walks_every_depth_in_run_order():
    branchall = {"id": "all", "value": {"type": "branchall", "branches": [
        {"modules": [_step("left")]}, {"modules": [_loop("inner", [_step("deep")])]}]}}
    branchone = {"id": "one", "value": {"type": "branchone", "branches": [
        {"expr": "true", "modules": [_step("yes")]}], "default": [_step("no")]}}
    value = {"modules": [_step("a"), branchall, branchone,
                         {"id": "w", "value": {"type": "whileloopflow", "modules": [_step("tick")]}}],
             "preprocessor_module": _step("preprocessor"), "failure_module": _step("failure")}
    walked = [(path, module.id) for path, module in iter_modules(flow_from_data(value))]
    assert walked == [
        ("value.preprocessor_module", "preprocessor"),
        ("value.modules[0]", "a"),
        ("value.modules[1]", "all"),
        ("value.modules[1].value.branches[0].modules[0]", "left"),
        ("value.modules[1].value.branches[1].modules[0]", "inner"),
        ("value.modules[1].value.branches[1].modules[0].value.modules[0]", "deep"),
        ("value.modules[2]", "one"),
        ("value.modules[2].value.branches[0].modules[0]", "yes"),
        ("value.modules[2].value.default[0]", "no"),
        ("value.modules[3]", "w"),
        ("value.modules[3].value.modules[0]", "tick"),
        ("value.failure_module", "failure"),
    ]


def test_iter_modules_accepts_a_flow_value_and_iter_rawscripts_finds_inline_scripts():
    doc = flow_from_data({"modules": [_step("a"), {"id": "i", "value": {"type": "identity"}}]})
    assert [path for path, _ in iter_modules(doc.value)] == ["value.modules[0]", "value.modules[1]"]
    assert [path for path, _ in iter_rawscripts(doc)] == ["value.modules[0].value"]
