"""`check` compiles without running and reports where a syntax error is."""

from __future__ import annotations

import time

import pytest

from engine.errors import BadInput, ExpressionSyntaxError
from engine.expressions import Evaluator, Scope


@pytest.fixture(scope="module")
def evaluator() -> Evaluator:
    return Evaluator()


@pytest.mark.parametrize(
    "expr",
    [
        "flow_input.x",
        "`Hi ${flow_input.name}`",
        "results.a.map(x => x * 2)",
        "results.a?.b ?? 1",
        "const a = 1; return a + flow_input.x",
        "if (flow_input.x) {\n  return 1\n}\nreturn 2",
        "flow_input.x;",
        "({a: 1})",
        "// only a comment",
    ],
)
def test_valid_expressions_pass_the_check(evaluator: Evaluator, expr: str) -> None:
    evaluator.check(expr, where="step a, input x")


def test_check_does_not_run_the_code(evaluator: Evaluator) -> None:
    started = time.monotonic()
    evaluator.check("while (true) {}")
    evaluator.check("globalThis.ran = 1; return 0")
    assert time.monotonic() - started < 0.5
    assert evaluator.evaluate("typeof ran", Scope(flow_input={}, results={})) == "undefined"


def test_syntax_error_in_an_expression_has_its_position(evaluator: Evaluator) -> None:
    with pytest.raises(ExpressionSyntaxError) as raised:
        evaluator.check("flow_input.x +* 2", where="step b, input x")
    error = raised.value
    assert error.position == 14
    assert error.where == "step b, input x"
    assert "unexpected token" in error.reason
    assert "position 14" in str(error) and str(error).startswith("step b, input x: ")
    assert isinstance(error, BadInput)


def test_syntax_error_at_the_end_points_at_the_last_token(evaluator: Evaluator) -> None:
    with pytest.raises(ExpressionSyntaxError) as raised:
        evaluator.check("flow_input.x +")
    assert raised.value.position == 13


def test_syntax_error_in_a_multi_statement_body_has_line_and_column(evaluator: Evaluator) -> None:
    expr = "const a = 1;\nconst b = a +* 2;\nreturn b"
    with pytest.raises(ExpressionSyntaxError) as raised:
        evaluator.check(expr)
    error = raised.value
    assert error.position == expr.index("*")
    assert "(line 2, column 14)" in error.reason


def test_syntax_error_in_a_body_is_reported_for_the_body(evaluator: Evaluator) -> None:
    with pytest.raises(ExpressionSyntaxError) as raised:
        evaluator.check("let x = ;\nreturn x")
    assert raised.value.position == 8
    assert "';'" in raised.value.reason


def test_syntax_error_with_modern_syntax_before_it(evaluator: Evaluator) -> None:
    expr = "results.a.map(x => x?.v ?? `${x}`) +"
    with pytest.raises(ExpressionSyntaxError) as raised:
        evaluator.check(expr)
    assert raised.value.position == len(expr) - 1


def test_evaluate_raises_the_same_syntax_error(evaluator: Evaluator) -> None:
    with pytest.raises(ExpressionSyntaxError) as raised:
        evaluator.evaluate("flow_input.x +* 2", Scope(flow_input={}, results={}), where="step c")
    assert (raised.value.position, raised.value.where) == (14, "step c")


def test_empty_expression_is_a_syntax_error(evaluator: Evaluator) -> None:
    with pytest.raises(ExpressionSyntaxError, match="empty"):
        evaluator.check("  ;  ")


def test_code_that_closes_its_wrapper_is_rejected_and_leaves_nothing(evaluator: Evaluator) -> None:
    escape = "1\n);\n}); globalThis.escaped = 1; (function () {\nreturn (\n1"
    with pytest.raises(ExpressionSyntaxError):
        evaluator.check(escape)
    assert evaluator.evaluate("typeof escaped", Scope(flow_input={}, results={})) == "undefined"
