"""Rules of a flow beyond its shape: step ids, and hooks that check expressions and scripts."""

from __future__ import annotations

from typing import Callable, Iterator

from engine.errors import BadInput, FlowValidationError, Issue, quote
from engine.item_paths import EXPECTED, path_problem
from engine.openflow.models import FlowDocument, FlowValue
from engine.openflow.paths import IDENTIFIER
from engine.openflow.walk import iter_expressions, iter_modules, iter_rawscripts

JS_RESERVED_WORDS = frozenset(
    "await break case catch class const continue debugger default delete do else enum export "
    "extends false finally for function if implements import in instanceof interface let new "
    "null package private protected public return static super switch this throw true try "
    "typeof var void while with yield".split()
)

RESERVED_IDS = (
    frozenset({"failure", "preprocessor", "Input", "Result", "Trigger"}) | JS_RESERVED_WORDS
)
"""Ids no ordinary step may take: names the engine uses, and JavaScript reserved words."""

_SPECIAL_STEPS = {"value.failure_module": "failure", "value.preprocessor_module": "preprocessor"}

ExpressionCheck = Callable[[str, str], None]
"""`check_expression(expr, where)`: raises a BadInput (e.g. ExpressionSyntaxError) if bad."""

ScriptCheck = Callable[[str, str, str], None]
"""`check_script(language, content, where)`: raises a BadInput (e.g. ScriptLoadError) if bad."""


def _id_problem(step_id: str, path: str) -> str | None:
    if not IDENTIFIER.match(step_id):
        return (f"step id {step_id!r} is not an identifier: use letters, digits and _, "
                f"not starting with a digit, so that results.<id> works")
    if step_id in RESERVED_IDS and _SPECIAL_STEPS.get(path) != step_id:
        return f"step id {step_id!r} is reserved; choose another id"
    return None


def _id_issues(value: FlowValue) -> Iterator[Issue]:
    first_use: dict[str, str] = {}
    for path, module in iter_modules(value):
        problem = _id_problem(module.id, path)
        if problem is not None:
            yield Issue(f"{path}.id", problem)
        if module.id in first_use:
            yield Issue(f"{path}.id",
                        f"duplicate step id {module.id!r}: also used at {first_use[module.id]}")
        else:
            first_use[module.id] = path
    if value.early_return is not None and value.early_return not in first_use:
        yield Issue("value.early_return", f"no step has id {value.early_return!r}")


def _path_issues(value: FlowValue) -> Iterator[Issue]:
    """`script` and `flow` steps name saved items by path: the one grammar holds there too."""
    for path, module in iter_modules(value):
        if module.value.type in ("script", "flow"):
            problem = path_problem(module.value.path)
            if problem is not None:
                yield Issue(f"{path}.value.path",
                            f"{module.value.type} path {quote(module.value.path)} is invalid: {problem}; {EXPECTED}")


def _reason(exc: BadInput, where: str) -> str:
    text = str(exc)
    prefix = f"{where}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def _hook_issues(
    value: FlowValue, check_expression: ExpressionCheck | None, check_script: ScriptCheck | None
) -> Iterator[Issue]:
    if check_expression is not None:
        for where, expr in iter_expressions(value):
            try:
                check_expression(expr, where)
            except BadInput as exc:
                yield Issue(where, _reason(exc, where))
    if check_script is not None:
        for at, script in iter_rawscripts(value):
            where = f"{at}.content"
            try:
                check_script(script.language, script.content, where)
            except BadInput as exc:
                yield Issue(where, _reason(exc, where))


def validate_flow(
    flow: FlowDocument | FlowValue,
    *,
    check_expression: ExpressionCheck | None = None,
    check_script: ScriptCheck | None = None,
) -> None:
    """Check the rules a well-shaped flow must also follow, and report every problem at once.

    Step ids (at every depth, the failure and preprocessor steps included) must be
    identifiers, unique, and not reserved; `failure` and `preprocessor` are allowed only as
    the ids of the failure and preprocessor steps. `early_return` must name a step.
    The `path` of `script` and `flow` steps must be an item path (`engine.item_paths`).

    Args:
        flow: the document (or its flow value) to check.
        check_expression: called as `(expr, where)` for every JavaScript expression.
        check_script: called as `(language, content, where)` for every inline script.
            A BadInput either hook raises becomes an issue at `where`; anything else
            propagates (it is a bug, not a bad flow).

    Raises:
        FlowValidationError: listing every issue with its path.
    """
    value = flow.value if isinstance(flow, FlowDocument) else flow
    issues = [*_id_issues(value), *_path_issues(value), *_hook_issues(value, check_expression, check_script)]
    if issues:
        raise FlowValidationError(issues)
