"""The fast path's JS value rules agree with quickjs itself."""

from __future__ import annotations

import json
import math

import pytest
import quickjs

from engine.expressions.jsvalues import (
    ARRAY_PROTO,
    OBJECT_PROTO,
    STRING_PROTO,
    number,
    number_to_string,
    to_json,
)


@pytest.fixture(scope="module")
def context() -> quickjs.Context:
    return quickjs.Context()


NUMBERS = [
    0.0, -0.0, 1.0, -1.0, 0.5, 0.1 + 0.2, 1 / 3, 2 / 3, 1e21, 1e20, 123e-20, 1e-6, 1e-7,
    1.5e-7, 5e-324, 1.7976931348623157e308, 2.0**53, 2.0**53 + 2, 2.0**60, 2.0**70,
    123456.789, -98765.4321, 1e100, 4.35, 0.000123, 100.0, 1234567890123.0, math.inf,
    -math.inf, math.nan,
]


def js_literal(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


@pytest.mark.parametrize("value", NUMBERS)
def test_number_to_string_matches_quickjs(context: quickjs.Context, value: float) -> None:
    assert number_to_string(value) == context.eval(f"String({js_literal(value)})")


@pytest.mark.parametrize("value", [2**60 + 1, 2**53 + 1, -(2**55) - 3])
def test_large_ints_print_as_doubles_do(context: quickjs.Context, value: int) -> None:
    assert number_to_string(value) == context.eval(f"String(JSON.parse('{value}'))")


@pytest.mark.parametrize("value", [3.0, 2.0**60, 2.0**70, 1e20, 0.5, -0.0, 1e21, 1 / 3])
def test_computed_numbers_come_out_as_json_stringify_writes_them(
    context: quickjs.Context, value: float
) -> None:
    expected = json.loads(context.eval(f"JSON.stringify({value!r})"))
    actual = to_json(number(value))
    assert (actual, type(actual)) == (expected, type(expected))


@pytest.mark.parametrize(
    ("names", "prototype"),
    [
        (OBJECT_PROTO, "Object.prototype"),
        (ARRAY_PROTO, "Array.prototype"),
        (STRING_PROTO, "String.prototype"),
    ],
)
def test_inherited_names_cover_quickjs_prototypes(
    context: quickjs.Context, names: frozenset[str], prototype: str
) -> None:
    own = json.loads(context.eval(f"JSON.stringify(Object.getOwnPropertyNames({prototype}))"))
    assert set(own) <= names
