"""Expressions beyond plain data access run in the JS engine with Windmill's names."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from engine.errors import ExpressionError, ExpressionSyntaxError
from engine.expressions import Evaluator, Scope


@pytest.fixture(scope="module")
def evaluator() -> Evaluator:
    return Evaluator()


def scope(**flow_input: Any) -> Scope:
    return Scope(
        flow_input=flow_input,
        results={"a": {"items": [{"v": 1}, {"v": 2}, {"v": 3}]}, "b": "text", "c": None},
        previous_result={"n": 4},
        flow_env={"REGION": "eu"},
    )


def test_template_strings_interpolate_flow_input(evaluator: Evaluator) -> None:
    assert evaluator.evaluate("`Hi ${flow_input.name}!`", scope(name="Ann")) == "Hi Ann!"


def test_arrow_functions_map_over_results(evaluator: Evaluator) -> None:
    expr = "results.a.items.map(x => x.v * 2).filter(v => v > 2)"
    assert evaluator.evaluate(expr, scope()) == [4, 6]


def test_optional_chaining_and_nullish_coalescing(evaluator: Evaluator) -> None:
    assert evaluator.evaluate("flow_input.user?.name ?? 'nobody'", scope()) == "nobody"
    assert evaluator.evaluate("flow_input.user?.name ?? 'nobody'", scope(user={"name": "Bo"})) == "Bo"
    assert evaluator.evaluate("results.c ?? 0", scope()) == 0


def test_multi_statement_body_with_return(evaluator: Evaluator) -> None:
    expr = (
        "const a = 1;\nlet total = a;\n"
        "for (const x of results.a.items) total += x.v;\nreturn total + flow_input.x"
    )
    assert evaluator.evaluate(expr, scope(x=10)) == 17


def test_body_may_declare_names_the_scope_also_has(evaluator: Evaluator) -> None:
    assert evaluator.evaluate("const result = previous_result.n; return result * 2", scope()) == 8


def test_body_without_return_gives_none(evaluator: Evaluator) -> None:
    assert evaluator.evaluate("const a = 1; a + 1;", scope()) is None


def test_loop_iteration_and_parent_are_in_flow_input(evaluator: Evaluator) -> None:
    inner = scope(iter={"index": 2, "value": {"id": "z"}}, iter_parent={"index": 0, "value": "p"})
    expr = "`${flow_input.iter_parent.value}-${flow_input.iter.index}-${flow_input.iter.value.id}`"
    assert evaluator.evaluate(expr, inner) == "p-2-z"


def test_unknown_result_id_is_null_in_js(evaluator: Evaluator) -> None:
    assert evaluator.evaluate("[results.nope === null, results['nope']]", scope()) == [True, None]
    assert evaluator.evaluate("(() => results.nope)()", scope()) is None
    assert evaluator.evaluate("(() => results.nope === null)()", scope()) is True


def test_dynamic_result_access_sees_every_result(evaluator: Evaluator) -> None:
    assert evaluator.evaluate("Object.keys(results).sort()", scope()) == ["a", "b", "c"]
    expr = "[results[flow_input.k].length, results[flow_input.k + 'x']]"
    assert evaluator.evaluate(expr, scope(k="b")) == [4, None]


def test_flow_env_previous_result_and_extra_names(evaluator: Evaluator) -> None:
    extra = Scope(flow_input={}, results={}, previous_result=[1, 2], result={"ok": True},
                  flow_env={"REGION": "eu"}, extra={"resume": {"approved": True}, "approvers": ["ann"]})
    expr = "[flow_env.REGION, previous_result.length, result.ok, resume.approved, approvers.join()]"
    assert evaluator.evaluate(expr, extra) == ["eu", 2, True, True, "ann"]


def test_js_exception_becomes_expression_error_naming_where(evaluator: Evaluator) -> None:
    with pytest.raises(ExpressionError) as raised:
        evaluator.evaluate("results.c.map(x => x)", scope(), where="step b, input x")
    assert raised.value.where == "step b, input x"
    assert raised.value.reason == "TypeError: cannot read property 'map' of null"
    assert str(raised.value).startswith("step b, input x: ")


def test_thrown_values_keep_their_message(evaluator: Evaluator) -> None:
    with pytest.raises(ExpressionError, match="RangeError: too far"):
        evaluator.evaluate("(() => { throw new RangeError('too far') })()", scope())
    with pytest.raises(ExpressionError, match="Uncaught plain"):
        evaluator.evaluate("(() => { throw 'plain' })()", scope())
    with pytest.raises(ExpressionError, match="Uncaught null"):
        evaluator.evaluate("(() => { throw null })()", scope())


def test_stack_overflow_is_an_expression_error(evaluator: Evaluator) -> None:
    with pytest.raises(ExpressionError, match="stack overflow"):
        evaluator.evaluate("function f() { return f() } return f()", scope())


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("undefined", None),
        ("(() => undefined)()", None),
        ("(() => NaN)()", None),
        ("(() => 1 / 0)()", None),
        ("[1, undefined, NaN, -Infinity].map(x => x)", [1, None, None, None]),
        ("({a: undefined, b: 1, f() {}})", {"b": 1}),
        ("new Date(Date.UTC(2024, 0, 2, 3, 4, 5))", "2024-01-02T03:04:05.000Z"),
        ("({when: new Date(0)})", {"when": "1970-01-01T00:00:00.000Z"}),
        ("() => 1", None),
        ("new Map([[1, 2]])", {}),
        ("(() => 2 ** 10)()", 1024),
        ("[1.0, 1.5].map(x => x)", [1, 1.5]),
    ],
)
def test_return_values_are_what_json_stringify_gives(
    evaluator: Evaluator, expr: str, expected: Any
) -> None:
    value = evaluator.evaluate(expr, scope())
    assert value == expected
    assert type(value) is type(expected)


def test_bigint_result_is_an_error(evaluator: Evaluator) -> None:
    with pytest.raises(ExpressionError, match="bigint"):
        evaluator.evaluate("(() => 10n)()", scope())


def test_nan_in_input_data_reaches_js_as_null(evaluator: Evaluator) -> None:
    assert evaluator.evaluate("(() => flow_input.v)()", scope(v=float("nan"))) is None


class RecordingResults(Mapping[str, Any]):
    """A results mapping that remembers which ids were read."""

    def __init__(self, data: dict[str, Any]):
        self.data, self.read = data, set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return self.data.get(key, default)

    def __iter__(self) -> Iterator[str]:
        self.read.add("*")
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


@pytest.mark.parametrize(
    "expr",
    ["results.a.x + results['b'].length", "(() => results.a.x + results['b'].length)()"],
)
def test_only_referenced_results_are_read(evaluator: Evaluator, expr: str) -> None:
    results = RecordingResults({"a": {"x": 1}, "b": "bb", "big": list(range(1000))})
    value = evaluator.evaluate(expr, Scope(flow_input={}, results=results))
    assert value == 3
    assert results.read == {"a", "b"}


def test_evaluators_work_from_several_threads(evaluator: Evaluator) -> None:
    answers: list[Any] = []

    def work(n: int) -> None:
        answers.append(evaluator.evaluate("[1, 2].map(x => x * flow_input.n)", scope(n=n)))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [[0, 0], [1, 2], [2, 4], [3, 6]]


LEGACY = "import { previous_result, flow_input, step, variable,\nresource, params } from 'windmill@1-1'\n\n"


def test_a_legacy_windmill_import_line_before_an_expression_is_ignored(evaluator: Evaluator) -> None:
    assert evaluator.evaluate(LEGACY + "flow_input.x + 1", scope(x=1)) == 2
    assert evaluator.evaluate(LEGACY + "`${flow_input.x}`", scope(x=1)) == "1"
    assert evaluator.evaluate(LEGACY + "const n = previous_result.n;\nreturn n * 2", scope()) == 8


def test_a_syntax_error_after_a_legacy_import_points_into_the_text_as_written(evaluator: Evaluator) -> None:
    with pytest.raises(ExpressionSyntaxError) as raised:
        evaluator.check(LEGACY + "flow_input.x +* 2")
    assert raised.value.position == len(LEGACY) + 14
    assert raised.value.expr.startswith("import { previous_result")


def test_other_imports_stay_syntax_errors(evaluator: Evaluator) -> None:
    with pytest.raises(ExpressionSyntaxError):
        evaluator.check("import { readFileSync } from 'node:fs'\nflow_input.x")
