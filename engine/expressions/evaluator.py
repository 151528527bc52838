"""Evaluate the JavaScript of flows: input transforms, iterators, predicates.

An expression is either a single JavaScript expression (`flow_input.x`,
`` `Hi ${flow_input.name}` ``, `results.a.map(x => x * 2)`) or a function body
with `return` (`const a = 1; return a + flow_input.x`). Plain data access runs
as compiled Python closures (`fastpath`); everything else runs in quickjs
(`sandbox`) under time and memory limits, with only the data the expression
names passed in as JSON, in a helper process (`sandbox_process`) that is killed
when it overruns its limit.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from engine.errors import (
    ExpressionError,
    ExpressionMemoryError,
    ExpressionSyntaxError,
    ExpressionTimeout,
)
from engine.expressions.fastpath import JS_SPACE, compile_fast, expression_text
from engine.expressions.jsvalues import Fallback
from engine.expressions.legacy import without_legacy_import
from engine.expressions.sandbox import (
    JsOutOfMemory,
    JsSyntax,
    JsThrew,
    JsTimeout,
    Limits,
)
from engine.expressions.sandbox_pool import shared_pool
from engine.expressions.sandbox_process import SandboxProcess
from engine.expressions.scope import STANDARD_NAMES, Scope

_FORMS_CACHE = 10_000
_T = TypeVar("_T")
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*\Z", re.ASCII)
_UNBINDABLE = frozenset(
    "break case catch class const continue debugger default delete do else enum export "
    "extends false finally for function if implements import in instanceof interface let "
    "new null package private protected public return static super switch this throw true "
    "try typeof var void while with yield await arguments eval undefined NaN Infinity".split()
)
# Which error to report when neither form compiles: a body's or an expression's.
_BODY_HINT = re.compile(
    r"\breturn\b|^\s*(?:const|let|var|if|for|while|do|switch|try|throw|function|class)\b|;\s*\S"
)
_RESULTS_NAME = re.compile(r"(?<![\w$])results(?![\w$])")
_RESULTS_ACCESS = re.compile(
    r"""\s*(?:\??\.\s*((?:[^\W\d]|\$)[\w$]*)|(?:\?\.)?\[\s*(?:"([^"\\\n]*)"|'([^'\\\n]*)')\s*\])"""
)


@dataclass(frozen=True)
class _Form:
    """How an expression's text becomes a function: its prefix and suffix around the text."""

    head: str
    tail: str
    is_body: bool
    head_lines: int = 2

    def text(self, expr: str) -> str:
        return without_legacy_import(expr) if self.is_body else expression_text(expr)

    def source(self, text: str, params: tuple[str, ...]) -> str:
        return f"(function ({', '.join(params)}) {{\n{self.head}{text}{self.tail}"


_EXPRESSION = _Form("return (\n", "\n);\n})", is_body=False)
# The body runs in an inner function so that it may declare its own `result`.
_BODY = _Form("return (function () {\n", "\n})();\n})", is_body=True)


@lru_cache(maxsize=10_000)
def referenced_results(expr: str) -> frozenset[str] | None:
    """Step ids the expression reads as `results.<id>` or `results["<id>"]`.

    Returns None when `results` is used any other way (then it needs them all).
    Mentions inside strings or comments may add ids; that only passes more data.
    """
    ids: set[str] = set()
    for match in _RESULTS_NAME.finditer(expr):
        start = match.start()
        if start >= 1 and expr[start - 1] == "." and (start < 2 or expr[start - 2] != "."):
            continue  # `x.results` is a property of something else (but `...results` is not)
        access = _RESULTS_ACCESS.match(expr, match.end())
        if access is None:
            return None
        ids.add(next(group for group in access.groups() if group is not None))
    return frozenset(ids)


class Evaluator:
    """Evaluates flow expressions; safe to share between threads.

    Args:
        time_limit: seconds one JS evaluation may run.
        memory_limit: bytes the JS engine of one helper process may hold.
    """

    def __init__(self, *, time_limit: float = 0.1, memory_limit: int = 32 * 2**20):
        if time_limit <= 0 or memory_limit < 2**20:
            raise ValueError("time_limit must be positive and memory_limit at least 1 MiB")
        self._limits = Limits(time=time_limit, memory=memory_limit)
        self._pool = shared_pool(self._limits)
        self._forms: dict[str, _Form] = {}
        self._forms_lock = threading.Lock()

    def check(self, expr: str, *, where: str = "") -> None:
        """Compile `expr` without running it.

        Raises:
            ExpressionSyntaxError: it does not parse; carries the position.
        """
        with self._js(expr, where) as sandbox:
            self._with_source(sandbox, expr, STANDARD_NAMES, where, sandbox.compile)

    def evaluate(self, expr: str, scope: Scope, *, where: str = "") -> Any:
        """Evaluate `expr` against `scope` and return a JSON-able value.

        JS undefined, NaN and Infinity come back as None, Dates as ISO strings.
        Plain data access may return the scope's own objects: treat them as read-only.

        Raises:
            ExpressionSyntaxError, ExpressionError, ExpressionTimeout, ExpressionMemoryError.
        """
        fast = compile_fast(expr)
        if fast is not None:
            try:
                return fast(scope)
            except Fallback:
                pass
        return self._evaluate_js(expr, scope, where=where)

    def referenced_results(self, expr: str) -> set[str] | None:
        """Step ids `expr` reads from `results`; None when it cannot tell (pass them all)."""
        ids = referenced_results(expr)
        return None if ids is None else set(ids)

    def _evaluate_js(self, expr: str, scope: Scope, *, where: str = "") -> Any:
        extras = tuple(sorted(name for name in scope.extra if _bindable(name)))
        args = _arguments(expr, scope, extras)
        may_throw_null = "throw" in expr
        with self._js(expr, where) as sandbox:
            text = self._with_source(
                sandbox, expr, STANDARD_NAMES + extras, where,
                lambda source: sandbox.call(source, args, may_throw_null=may_throw_null),
            )
        return None if text is None else json.loads(text)

    @contextmanager
    def _js(self, expr: str, where: str) -> Iterator[SandboxProcess]:
        try:
            with self._pool.borrow() as sandbox:
                yield sandbox
        except JsThrew as error:
            raise ExpressionError(str(error), expr=expr, where=where) from None
        except JsTimeout:
            message = f"ran longer than its time limit of {self._limits.time:g} s"
            raise ExpressionTimeout(message, expr=expr, where=where) from None
        except JsOutOfMemory:
            message = f"used more than its memory limit of {_size(self._limits.memory)}"
            raise ExpressionMemoryError(message, expr=expr, where=where) from None

    def _with_source(
        self, sandbox: SandboxProcess, expr: str, params: tuple[str, ...], where: str, use: Callable[[str], _T]
    ) -> _T:
        """`use` applied to the source of the expression's function; a syntax error says where."""
        form = self._forms.get(expr)
        if form is None:
            form = self._choose_form(sandbox, expr, params, where)
            with self._forms_lock:
                if len(self._forms) >= _FORMS_CACHE:
                    self._forms.pop(next(iter(self._forms)))
                self._forms[expr] = form
        try:
            return use(form.source(form.text(expr), params))
        except JsSyntax as error:
            raise _syntax_error(sandbox, form, expr, params, error, where) from None

    def _choose_form(self, sandbox: SandboxProcess, expr: str, params: tuple[str, ...], where: str) -> _Form:
        if not expression_text(expr).strip(JS_SPACE):
            raise ExpressionSyntaxError("the expression is empty", expr=expr, where=where, position=0)
        errors = {}
        for form in (_EXPRESSION, _BODY):
            try:
                sandbox.compile(form.source(form.text(expr), params))
                return form
            except JsSyntax as error:
                errors[form] = error
        form = _BODY if _BODY_HINT.search(expr) else _EXPRESSION
        raise _syntax_error(sandbox, form, expr, params, errors[form], where)


def _syntax_error(
    sandbox: SandboxProcess, form: _Form, expr: str, params: tuple[str, ...], error: JsSyntax, where: str
) -> ExpressionSyntaxError:
    if error.line is None:
        return ExpressionSyntaxError(error.message, expr=expr, where=where)
    text = form.text(expr)
    position = _locate(sandbox, form, text, params, error)
    message = error.message
    if "\n" in text:
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        message += f" (line {line}, column {column})"
    return ExpressionSyntaxError(message, expr=expr, where=where, position=position)


def _locate(sandbox: SandboxProcess, form: _Form, text: str, params: tuple[str, ...], error: JsSyntax) -> int:
    """The offset of the error in `text`.

    quickjs reports only a line. An error past the text's last line is at its
    end. Otherwise the shortest prefix that fails the same way on that line
    ends at the offending token: bisect on prefixes cut within the line (the
    wrapper's tail then sits on a later line, so it cannot fail the same way).
    """
    line = (error.line or 0) - form.head_lines
    starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]
    if not 1 <= line <= len(starts):
        return max(len(text.rstrip(JS_SPACE)) - 1, 0)

    def fails_alike(length: int) -> bool:
        found = sandbox.syntax_error(form.source(text[:length], params))
        return found is not None and (found.message, found.line) == (error.message, error.line)

    low = starts[line - 1]
    high = starts[line] - 1 if line < len(starts) else len(text)
    while low < high:
        middle = (low + high) // 2
        if fails_alike(middle):
            high = middle
        else:
            low = middle + 1
    return max(high - 1, 0)


def _bindable(name: str) -> bool:
    return bool(_IDENTIFIER.match(name)) and name not in _UNBINDABLE and name not in STANDARD_NAMES


def _arguments(expr: str, scope: Scope, extras: tuple[str, ...]) -> str:
    """The JSON array of parameter values; names the text never mentions get null."""
    values = [
        scope.flow_input if "flow_input" in expr else None,
        _results_argument(expr, scope.results) if "results" in expr else None,
        scope.previous_result if "previous_result" in expr else None,
        scope.result if "result" in expr else None,
        scope.flow_env if "flow_env" in expr else None,
    ]
    values.extend(scope.extra[name] if name in expr else None for name in extras)
    try:
        return json.dumps(values, allow_nan=False, separators=(",", ":"))
    except ValueError:
        return json.dumps(_finite(values), separators=(",", ":"))


def _results_argument(expr: str, results: Mapping[str, Any]) -> dict[str, Any]:
    ids: Iterable[str] | None = referenced_results(expr)
    if ids is None:
        ids = results.keys()
    # An absent id is left out: the JS side answers null for it.
    return {step_id: results[step_id] for step_id in ids if step_id in results}


def _finite(value: Any) -> Any:
    """Replace NaN and infinities (which JSON has no form for) by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_finite(item) for item in value]
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    return value


def _size(limit: int) -> str:
    return f"{limit / 2**20:g} MiB"
