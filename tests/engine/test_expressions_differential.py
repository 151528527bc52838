"""The fast path and the JS engine agree on every expression the fast path accepts."""

from __future__ import annotations

import math
from typing import Any

import pytest

from engine.errors import ExpressionError
from engine.expressions import Evaluator, Scope
from engine.expressions.fastpath import compile_fast
from engine.expressions.jsvalues import Fallback

SCOPE = Scope(
    flow_input={
        "x": 2, "y": 0.5, "n": -3, "zero": 0, "name": "Ann", "empty": "", "list": [1, 2, 3],
        "nested": {"a": {"b": [{"c": "deep"}]}}, "flag": True, "off": False, "nil": None,
        "big": 2**60 + 1, "unicode": "héllo", "emoji": "a😀b", "float_int": 3.0,
        "neg_zero": -0.0, "keys": {"b": 1, "a": 2},
        "iter": {"index": 1, "value": {"id": "b"}}, "iter_parent": {"index": 0, "value": "p"},
    },
    results={
        "a": {"b": [10, 20]}, "s": "text", "n": 7, "arr": [], "obj": {}, "nul": None,
        "weird id": 5,
    },
    previous_result={"status": "ok", "count": 3},
    result={"done": False, "n": 5},
    flow_env={"ENV": "prod"},
    extra={"resume": {"approved": True}, "resumes": [{"a": 1}], "approvers": ["ann"]},
)

FAST_EXPRESSIONS = [
    "flow_input.x", "flow_input['name']", "flow_input.nested.a.b[0].c",
    "flow_input.nested['a']['b'][0]['c']", "flow_input.list[1]", "flow_input.list[5]",
    "flow_input.list[-1]", "flow_input.list['1']", "flow_input.list[1.0]", "flow_input.list['01']",
    "flow_input.list.length", "flow_input.name.length", "flow_input.unicode.length",
    "flow_input.emoji.length", "flow_input.name[0]", "flow_input.name[10]", "flow_input.unicode[1]",
    "flow_input.missing", "flow_input.keys", "flow_input.nested.a.b", "flow_input.float_int",
    "flow_input.neg_zero",
    "results.a.b[0] + flow_input.x", "results.missing", "results['weird id']", "results.s + '!'",
    "results.nul", "results[flow_input.iter.value.id]", "results[flow_input.name]",
    "previous_result.count * 2", "result.n > 3", "flow_env.ENV === 'prod'",
    "resume.approved", "resumes[0].a", "approvers.length",
    "flow_input.iter.index", "flow_input.iter.value.id", "flow_input.iter_parent.value",
    "'Hello ' + flow_input.name", "flow_input.x + flow_input.y", "flow_input.x + '1'",
    "'n=' + flow_input.n", "flow_input.y + ''", "flow_input.x + flow_input.y + 'a' + flow_input.x",
    "'a' + [flow_input.x][0]", "'' + flow_input.big", "flow_input.big + 1", "'' + flow_input.nil",
    "'' + flow_input.missing", "'' + flow_input.flag",
    "1 / 3", "'' + 1 / 3", "'' + (0.1 + 0.2)", "0.1 * 3", "1e300 * 1e10", "'' + 1e21",
    "'' + 1e-7", "'' + 0.000001", "'' + -1.5e-10", "'' + 1.2345678901234568e20", "'' + 1e300",
    "flow_input.x / flow_input.zero", "-flow_input.x / flow_input.zero",
    "flow_input.zero / flow_input.zero", "'' + 1 / -flow_input.zero", "'' + -flow_input.x / 0",
    "7 % 3", "-7 % 3", "7.5 % 2", "5 % 0", "'' + (-7 % 7)", "flow_input.n % 2 === -1",
    "flow_input.x * flow_input.y - 1", "flow_input.float_int + 0", "-flow_input.zero",
    "+flow_input.x", "-flow_input.y",
    "flow_input.x === 2", "flow_input.x === '2'", "flow_input.x !== 2", "flow_input.nil === null",
    "flow_input.missing === undefined", "flow_input.missing === null",
    "flow_input.missing == null", "flow_input.nil == undefined", "flow_input.zero == null",
    "flow_input.name == 'Ann'", "flow_input.x != 3", "flow_input.float_int === 3",
    "NaN === NaN", "flow_input.flag === true", "flow_input.list === 1", "flow_input.nil == false",
    "flow_input.x < 3", "flow_input.name < 'Bob'", "'b' > 'a'", "flow_input.x >= 2",
    "flow_input.y <= 0.5", "NaN < 1", "'é' < 'z'", "'B' < 'a'",
    "flow_input.flag && flow_input.name", "flow_input.off && flow_input.name",
    "flow_input.empty || 'default'", "flow_input.zero || flow_input.nil || 'last'",
    "flow_input.list && flow_input.list.length", "results.arr || 'x'", "results.obj && 'yes'",
    "flow_input.missing || null", "NaN || 'nan is falsy'",
    "!flow_input.flag", "!!flow_input.empty", "!results.arr", "!flow_input.nil", "!!'0'",
    "flow_input.x > 1 ? 'big' : 'small'", "flow_input.empty ? 1 : 2", "results.obj ? 1 : 2",
    "typeof flow_input.x", "typeof flow_input.name", "typeof flow_input.nil",
    "typeof flow_input.missing", "typeof flow_input.list", "typeof flow_input.flag",
    "[flow_input.x, flow_input.name, flow_input.missing, 0 / 0]",
    "({a: flow_input.x, b: flow_input.missing, c: [1, 2], d: 1 / 0})",
    "({'quoted key': 1, 1.5: 2, a: 1, a: 3})", "[1, 2, 3][1]", "({a: {b: 5}}).a.b", "[].length",
    "[[flow_input.nested]]",
    "flow_input['list'][flow_input.x]", "flow_input.nested[flow_input.iter.value.id === 'b' ? 'a' : 'z']",
    "void 0", "undefined", "NaN", "Infinity", "-Infinity", "null", "true", "'str'", "1.50",
    "0x1F", "-1", "1e3", "\"esc\\naped \\u00e9\"", "(flow_input.x, flow_input.name)",
    "flow_input.x;", "flow_input.x // trailing comment",
]


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: 3 and 3.0 match, True and 1 do not."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@pytest.fixture(scope="module")
def evaluator() -> Evaluator:
    return Evaluator()


def test_the_differential_list_is_large() -> None:
    assert len(FAST_EXPRESSIONS) >= 50


@pytest.mark.parametrize("expr", FAST_EXPRESSIONS)
def test_fast_path_matches_the_js_engine(evaluator: Evaluator, expr: str) -> None:
    closure = compile_fast(expr)
    assert closure is not None, "expected the fast path to accept this"
    fast = closure(SCOPE)
    slow = evaluator._evaluate_js(expr, SCOPE)
    assert same_json(fast, slow), (fast, slow)


FALLBACK_EXPRESSIONS = [
    ("flow_input.x == '2'", True),
    ("flow_input.list == '1,2,3'", True),
    ("flow_input.list + ''", "1,2,3"),
    ("flow_input.x + true", 3),
    ("flow_input.x + null", 2),
    ("flow_input.x + flow_input.missing", None),
    ("flow_input.list === flow_input.list", True),
    ("flow_input.name.toUpperCase", None),
    ("flow_input.list.map", None),
    ("flow_input.emoji[1]", "\ud83d"),
    ("'😀' < 'ﬀ'", True),
    ("Math.PI > 3", True),
    ("typeof undeclared", "undefined"),
    ("+'12'", 12),
    ("results.toString === ({}).toString", True),
    ("({}).constructor === Object", True),
]


@pytest.mark.parametrize(("expr", "expected"), FALLBACK_EXPRESSIONS)
def test_fast_path_hands_subtle_cases_to_the_js_engine(
    evaluator: Evaluator, expr: str, expected: Any
) -> None:
    closure = compile_fast(expr)
    assert closure is not None
    with pytest.raises(Fallback):
        closure(SCOPE)
    assert same_json(evaluator.evaluate(expr, SCOPE), expected)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("flow_input.missing.x", "TypeError: cannot read property 'x' of undefined"),
        ("flow_input.nil.x", "TypeError: cannot read property 'x' of null"),
        ("results.nul.field", "TypeError: cannot read property 'field' of null"),
        ("flow_input.nil[flow_input.x]", "TypeError: cannot read property '2' of null"),
        ("undeclared_name", "ReferenceError: 'undeclared_name' is not defined"),
    ],
)
def test_fast_path_errors_read_like_js_errors(evaluator: Evaluator, expr: str, message: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        evaluator.evaluate(expr, SCOPE)
    assert raised.value.reason == message


@pytest.mark.parametrize(
    "expr",
    [
        "flow_input.name.toUpperCase()", "results.a.b.map(x => x)", "`t`", "a?.b", "a ?? b",
        "this", "new Date()", "x = 1", "flow_input.x++", "'a' in flow_input",
        "flow_input instanceof Object", "results", "Object.keys(results)", "/re/", "1 | 2",
        "{a: 1}", "flow_input.x; flow_input.y", "delete flow_input.x", "[1, , 2]",
        "({get a() { return 1 }})", "({__proto__: null})", "({1: 'a'})", "function f() {}",
        "'\\ud83d'",
    ],
)
def test_fast_path_declines_what_it_does_not_model(expr: str) -> None:
    assert compile_fast(expr) is None


def test_fast_path_returns_scope_data_unchanged() -> None:
    closure = compile_fast("flow_input.nested")
    assert closure is not None
    assert closure(SCOPE) is SCOPE.flow_input["nested"]


def test_compiled_expressions_are_cached_by_text() -> None:
    assert compile_fast("flow_input.x + 1") is compile_fast("flow_input.x + 1")
