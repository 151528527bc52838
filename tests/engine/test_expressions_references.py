"""`referenced_results` names the step ids an expression reads, or admits it cannot tell."""

from __future__ import annotations

import pytest

from engine.expressions import Evaluator

evaluator = Evaluator()


@pytest.mark.parametrize(
    ("expr", "ids"),
    [
        ("flow_input.x", set()),
        ("results.a", {"a"}),
        ("results.a.b[0] + results.c", {"a", "c"}),
        ("results['with space'] + results[\"d\"]", {"with space", "d"}),
        ("results?.e ?? results?.['f']", {"e", "f"}),
        ("results . g", {"g"}),
        ("results.$h + results._i", {"$h", "_i"}),
        ("flow_input.results.x + my_results.y + results_z", set()),
        ("`${results.t}`", {"t"}),
        ("results.a.map(x => results.b[x])", {"a", "b"}),
    ],
)
def test_referenced_results_lists_the_ids(expr: str, ids: set[str]) -> None:
    assert evaluator.referenced_results(expr) == ids


@pytest.mark.parametrize(
    "expr",
    [
        "results",
        "Object.keys(results)",
        "results[flow_input.key]",
        "results[0]",
        "({...results})",
        "[...results.a, ...results]",
        "const {a} = results; return a",
        "results['esc\\'aped']",
        "f(results)",
    ],
)
def test_referenced_results_is_none_when_results_is_used_whole(expr: str) -> None:
    assert evaluator.referenced_results(expr) is None
