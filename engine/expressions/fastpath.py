"""Compile plain data access in JavaScript to Python closures.

The subset: scope names, member access (dotted and computed), literals, array
and object literals, `! - + typeof void`, `+ - * / %`, `< > <= >=`,
`=== !== == !=`, `&& ||`, `?:` and comma sequences. It has no calls and no
side effects, so a closure that meets a value whose JS behaviour it does not
model exactly raises `Fallback` and the caller evaluates the expression in the
JS engine instead, which also gives JS's own error messages. Anything outside
the subset does not compile here (`compile_fast` returns None).

Values read from the scope are returned as they are, not copied.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from engine.expressions import jsvalues as js
from engine.expressions.jsvalues import MISSING, UNDEFINED, Fallback
from engine.expressions.legacy import without_legacy_import
from engine.expressions.scope import Scope

Closure = Callable[[Scope], Any]

JS_SPACE = (
    " \t\n\r\v\f\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_SCOPE_ATTRIBUTES = frozenset({"flow_input", "previous_result", "result", "flow_env"})
_CONSTANTS = {"undefined": UNDEFINED, "NaN": math.nan, "Infinity": math.inf}


class _Unsupported(Exception):
    """The node is outside the fast subset."""


def expression_text(expr: str) -> str:
    """The expression without trailing whitespace and semicolons (`a.b;` reads as `a.b`),
    and without a legacy `import ... from 'windmill@1-1'` line (`legacy.py`)."""
    return without_legacy_import(expr).rstrip(JS_SPACE + ";")


@lru_cache(maxsize=10_000)
def compile_fast(expr: str) -> Closure | None:
    """Compile `expr` to a closure over a Scope, or None when it is outside the subset.

    The closure returns a JSON-able value (undefined, NaN and Infinity become
    None) or raises `Fallback`.
    """
    import pyjsparser  # here: a flow without expressions never needs the parser

    try:
        program = pyjsparser.parse(expression_text(expr))
    except Exception:  # pyjsparser raises JsSyntaxError, and other errors on odd input
        return None
    body = program["body"]
    if len(body) != 1 or body[0]["type"] != "ExpressionStatement":
        return None
    compiler = _Compiler()
    try:
        closure = compiler.compile(body[0]["expression"])
    except (_Unsupported, RecursionError):
        return None
    finish = js.to_json_deep if compiler.builds_containers else js.to_json
    return lambda scope: finish(closure(scope))


class _Compiler:
    """One node type, one method; each returns a closure."""

    def __init__(self) -> None:
        self.builds_containers = False

    def compile(self, node: dict) -> Closure:
        method = getattr(self, "_" + node["type"], None)
        if method is None:
            raise _Unsupported(node["type"])
        return method(node)

    def _Identifier(self, node: dict) -> Closure:
        name = node["name"]
        if name in _SCOPE_ATTRIBUTES:
            return operator.attrgetter(name)
        if name in _CONSTANTS:
            value = _CONSTANTS[name]
            return lambda scope: value
        if name == "results":
            # Only `results.<id>` is modelled; other uses need every result.
            raise _Unsupported(name)

        def extra(scope: Scope) -> Any:
            value = scope.extra.get(name, MISSING)
            if value is MISSING:
                raise Fallback  # a JS global (Math, JSON) or a ReferenceError
            return value

        return extra

    def _Literal(self, node: dict) -> Closure:
        value = node["value"]
        if node.get("regex") is not None:
            raise _Unsupported("regex")
        if type(value) in (int, float):
            value = js.number(float(value))
        elif type(value) is str and _SURROGATE.search(value):
            raise _Unsupported("surrogate escape")
        elif value is not None and type(value) not in (bool, str):
            raise _Unsupported("literal")
        return lambda scope: value

    def _MemberExpression(self, node: dict) -> Closure:
        target, prop = node["object"], node["property"]
        if not node["computed"]:
            return self._member_constant(target, prop["name"])
        if prop["type"] == "Literal" and type(prop["value"]) in (str, int, float):
            literal = prop["value"]
            key = literal if type(literal) is str else js.number_to_string(js.number(float(literal)))
            return self._member_constant(target, key)
        key_of = self.compile(prop)
        if target["type"] == "Identifier" and target["name"] == "results":
            return lambda scope: _result(scope, js.to_string(key_of(scope)))
        obj_of = self.compile(target)

        def member(scope: Scope) -> Any:
            obj = obj_of(scope)
            key = js.to_string(key_of(scope))
            return js.get_property(obj, key, js.array_index(key))

        return member

    def _member_constant(self, target: dict, key: str) -> Closure:
        if target["type"] == "Identifier" and target["name"] == "results":
            return lambda scope: _result(scope, key)
        obj_of = self.compile(target)
        index = js.array_index(key)
        get = js.get_property
        return lambda scope: get(obj_of(scope), key, index)

    def _UnaryExpression(self, node: dict) -> Closure:
        operand = self.compile(node["argument"])
        op = node["operator"]
        if op == "!":
            return lambda scope: not js.truthy(operand(scope))
        if op == "-":
            return lambda scope: js.number(-js.to_float(operand(scope)))
        if op == "+":
            return lambda scope: js.number(js.to_float(operand(scope)))
        if op == "typeof":
            return lambda scope: js.typeof(operand(scope))
        if op == "void":
            return lambda scope: (operand(scope), UNDEFINED)[1]
        raise _Unsupported(op)

    def _BinaryExpression(self, node: dict) -> Closure:
        function = _BINARY.get(node["operator"])
        if function is None:
            raise _Unsupported(node["operator"])
        left, right = self.compile(node["left"]), self.compile(node["right"])
        return lambda scope: function(left(scope), right(scope))

    def _LogicalExpression(self, node: dict) -> Closure:
        left, right = self.compile(node["left"]), self.compile(node["right"])
        truthy = js.truthy
        if node["operator"] == "&&":

            def both(scope: Scope) -> Any:
                value = left(scope)
                return right(scope) if truthy(value) else value

            return both

        def either(scope: Scope) -> Any:
            value = left(scope)
            return value if truthy(value) else right(scope)

        return either

    def _ConditionalExpression(self, node: dict) -> Closure:
        test = self.compile(node["test"])
        then, otherwise = self.compile(node["consequent"]), self.compile(node["alternate"])
        truthy = js.truthy
        return lambda scope: then(scope) if truthy(test(scope)) else otherwise(scope)

    def _SequenceExpression(self, node: dict) -> Closure:
        parts = [self.compile(part) for part in node["expressions"]]
        return lambda scope: [part(scope) for part in parts][-1]

    def _ArrayExpression(self, node: dict) -> Closure:
        if any(element is None for element in node["elements"]):
            raise _Unsupported("array hole")
        self.builds_containers = True
        elements = [self.compile(element) for element in node["elements"]]
        return lambda scope: [element(scope) for element in elements]

    def _ObjectExpression(self, node: dict) -> Closure:
        self.builds_containers = True
        members = [(_object_key(prop), self.compile(prop["value"])) for prop in node["properties"]]
        return lambda scope: {key: value(scope) for key, value in members}


def _object_key(prop: dict) -> str:
    if prop["kind"] != "init" or prop.get("computed") or prop.get("method"):
        raise _Unsupported("accessor")
    key = prop["key"]
    if key["type"] == "Identifier":
        name = key["name"]
    elif type(key.get("value")) is str:
        name = key["value"]
    elif type(key.get("value")) in (int, float):
        name = js.number_to_string(js.number(float(key["value"])))
    else:
        raise _Unsupported("object key")
    # JS lists index-like keys first (a different order) and `__proto__` sets the prototype.
    if name == "__proto__" or js.array_index(name) is not None or _SURROGATE.search(name):
        raise _Unsupported("object key")
    return name


def _result(scope: Scope, step_id: str) -> Any:
    value = scope.results.get(step_id, MISSING)
    if value is MISSING:
        if step_id in js.OBJECT_PROTO:
            raise Fallback
        return None
    return value


def _compare(order: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    return lambda a, b: order(*js.comparable(a, b))


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": js.add,
    "-": js.subtract,
    "*": js.multiply,
    "/": js.divide,
    "%": js.remainder,
    "<": _compare(operator.lt),
    ">": _compare(operator.gt),
    "<=": _compare(operator.le),
    ">=": _compare(operator.ge),
    "===": js.strict_equals,
    "!==": lambda a, b: not js.strict_equals(a, b),
    "==": js.loose_equals,
    "!=": lambda a, b: not js.loose_equals(a, b),
}
