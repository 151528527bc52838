"""The JS engine stops runaway expressions, keeps working after, and leaks nothing."""

from __future__ import annotations

import threading
import time

import pytest

from engine.errors import ExpressionError, ExpressionMemoryError, ExpressionTimeout
from engine.expressions import Evaluator, Scope

EMPTY = Scope(flow_input={"x": 1}, results={})


def test_infinite_loop_times_out_quickly_and_the_evaluator_recovers() -> None:
    evaluator = Evaluator(time_limit=0.05)
    started = time.monotonic()
    with pytest.raises(ExpressionTimeout) as raised:
        evaluator.evaluate("while (true) {}", EMPTY, where="step a, input n")
    assert time.monotonic() - started < 2.0  # never hangs, even on a loaded machine
    assert raised.value.where == "step a, input n"
    assert "time limit" in raised.value.reason
    assert evaluator.evaluate("[1, 2].map(x => x + flow_input.x)", EMPTY) == [2, 3]


def test_a_timeout_cannot_be_caught_by_the_expression() -> None:
    evaluator = Evaluator(time_limit=0.05)
    with pytest.raises(ExpressionTimeout):
        evaluator.evaluate("while (true) { try { while (true) {} } catch (e) {} }", EMPTY)


def test_default_time_limit_is_a_tenth_of_a_second() -> None:
    started = time.monotonic()
    with pytest.raises(ExpressionTimeout, match="0.1 s"):
        Evaluator().evaluate("for (;;) {}", EMPTY)
    assert time.monotonic() - started < 2.0  # never hangs, even on a loaded machine


@pytest.mark.parametrize(
    "expr",
    [
        "const a = []; while (true) a.push({n: a.length});",
        "let s = 'x'; while (true) s = s + s;",
        "return new Array(1e8).fill(0).length",
    ],
)
def test_memory_blow_up_raises_memory_error_and_the_evaluator_recovers(expr: str) -> None:
    evaluator = Evaluator(time_limit=2.0, memory_limit=4 * 2**20)
    with pytest.raises(ExpressionMemoryError, match="4 MiB"):
        evaluator.evaluate(expr, EMPTY)
    assert evaluator.evaluate("Array.from({length: 3}, (_, i) => i)", EMPTY) == [0, 1, 2]


def test_limit_errors_are_expression_errors() -> None:
    assert issubclass(ExpressionTimeout, ExpressionError)
    assert issubclass(ExpressionMemoryError, ExpressionError)


def test_limits_must_be_usable() -> None:
    with pytest.raises(ValueError):
        Evaluator(time_limit=0)
    with pytest.raises(ValueError):
        Evaluator(memory_limit=1000)


@pytest.fixture(scope="module")
def evaluator() -> Evaluator:
    return Evaluator()


def test_no_io_modules_or_host_functions_are_exposed(evaluator: Evaluator) -> None:
    names = ["std", "os", "require", "process", "fetch", "XMLHttpRequest", "print", "console",
             "scriptArgs", "Deno", "Bun"]
    expr = f"{names!r}.map(n => typeof globalThis[n])"
    assert evaluator.evaluate(expr, EMPTY) == ["undefined"] * len(names)


def test_globals_set_by_one_evaluation_are_gone_in_the_next(evaluator: Evaluator) -> None:
    evaluator.evaluate("globalThis.leak = 1; implicit = 2; return 0", EMPTY)
    assert evaluator.evaluate("[typeof leak, typeof implicit]", EMPTY) == ["undefined", "undefined"]


def test_undeletable_globals_do_not_survive_either(evaluator: Evaluator) -> None:
    evaluator.evaluate("Object.defineProperty(globalThis, 'stuck', {value: 1}); return 0", EMPTY)
    assert evaluator.evaluate("typeof stuck", EMPTY) == "undefined"


def test_built_in_prototypes_cannot_be_changed_for_later_evaluations(evaluator: Evaluator) -> None:
    evaluator.evaluate("Array.prototype.map = null; Object.prototype.polluted = 1; return 0", EMPTY)
    with pytest.raises(ExpressionError, match="read-only"):
        evaluator.evaluate("'use strict'; JSON.parse = null; return 0", EMPTY)
    expr = "[[1].map(x => x + 1), ({}).polluted, typeof JSON.parse]"
    assert evaluator.evaluate(expr, EMPTY) == [[2], None, "function"]


def test_ordinary_objects_can_still_override_inherited_methods(evaluator: Evaluator) -> None:
    expr = (
        "const o = {}; o.toString = () => 'mine';\n"
        "class Oops extends Error { constructor(m) { super(m); this.name = 'Oops'; } }\n"
        "return [String(o), String(new Oops('bad'))]"
    )
    assert evaluator.evaluate(expr, EMPTY) == ["mine", "Oops: bad"]


def test_evaluations_do_not_share_local_names(evaluator: Evaluator) -> None:
    assert evaluator.evaluate("var shared = 5; let other = 1; return shared", EMPTY) == 5
    assert evaluator.evaluate("[typeof shared, typeof other]", EMPTY) == ["undefined", "undefined"]


def test_the_engine_helpers_are_out_of_reach(evaluator: Evaluator) -> None:
    expr = "Object.getOwnPropertyNames(globalThis).filter(n => n.startsWith('__millrace'))"
    assert evaluator.evaluate(expr, EMPTY) == []


BACKTRACKING = '("a".repeat(40) + "b")'
RUNAWAY_NATIVE_CODE = [
    '/(a+)+$/.test("a".repeat(40) + "b")',
    f'new RegExp("(a+)+$").test({BACKTRACKING})',
    f'{BACKTRACKING}.match("(a+)+$")',
    f'{BACKTRACKING}.replace(/(a+)+$/, "")',
    f'{BACKTRACKING}.search("(a+)+$")',
    f'{BACKTRACKING}.split(/(a+)+$/)',
    "flow_input.text.match(new RegExp(flow_input.pattern))",
    "Array.prototype.includes.call({length: 1e12}, 1)",
    'new Array(1e9).join("")',
]


@pytest.mark.parametrize("expr", RUNAWAY_NATIVE_CODE)
def test_native_code_that_never_checks_the_clock_still_stops_at_the_limit(expr: str) -> None:
    scope = Scope(flow_input={"text": "a" * 40 + "b", "pattern": "(a+)+$"}, results={})
    evaluator = Evaluator()
    started = time.monotonic()
    with pytest.raises(ExpressionTimeout) as raised:
        evaluator.evaluate(expr, scope, where="step parse, input x")
    assert time.monotonic() - started < 1.0
    assert str(raised.value).startswith("step parse, input x: expression ")
    assert raised.value.reason == "ran longer than its time limit of 0.1 s"
    assert evaluator.evaluate("[1, 2].map(x => x + flow_input.text.length)", scope) == [42, 43]


def test_a_runaway_expression_in_one_thread_does_not_hold_up_the_others() -> None:
    evaluator = Evaluator(time_limit=0.5)
    finished: dict[str, float] = {}

    def quick(name: str) -> None:
        for n in range(20):
            assert evaluator.evaluate(f"[{n}].map(x => x * 2)", EMPTY) == [n * 2]
        finished[name] = time.monotonic()

    def runaway() -> None:
        with pytest.raises(ExpressionTimeout):
            evaluator.evaluate('/(a+)+$/.test("a".repeat(40) + "b")', EMPTY)
        finished["runaway"] = time.monotonic()

    threads = [threading.Thread(target=runaway)]
    threads += [threading.Thread(target=quick, args=(f"quick {i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(finished) == 4
    assert max(t for name, t in finished.items() if name != "runaway") < finished["runaway"]
