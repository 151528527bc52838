"""Evaluating a step's expressions against what the run knows so far."""

from __future__ import annotations

from typing import Any

from engine.errors import BadInput, ExpressionError, NotFound
from engine.executor.context import Frame, RunContext
from engine.expressions import Scope


def scope_for(ctx: RunContext, frame: Frame, previous: Any, result: Any = None) -> Scope:
    """The names an expression sees at this point of the run."""
    return Scope(
        flow_input=frame.flow_input,
        results=ctx.results_view(frame),
        previous_result=previous,
        result=result,
        flow_env=ctx.flow_env,
        extra=frame.extra,
    )


_PREVIOUS = object()


def evaluate(ctx: RunContext, frame: Frame, expr: str, previous: Any, *, result: Any = _PREVIOUS,
             where: str) -> Any:
    """Evaluate one JS expression; syntax errors surface as ExpressionError here.

    `result` is the step's own result in predicates that are given one (stop_after_if,
    retry_if); everywhere else it is the previous result, as Windmill binds it (its
    legacy name, still found in iterators such as `result.items`).
    """
    scope = scope_for(ctx, frame, previous, previous if result is _PREVIOUS else result)
    source = expr
    try:
        if "resource(" in expr or "variable(" in expr:
            expr, lookups = _vault(ctx).expand_lookups(expr, workspace=ctx.services.workspace)
            scope.extra = {**scope.extra, **lookups}
        return ctx.services.evaluator.evaluate(expr, scope, where=where)
    except NotFound as exc:
        raise ExpressionError(str(exc), expr=source, where=where) from exc
    except BadInput as exc:
        raise ExpressionError(str(exc), expr=source, where=where) from exc


def evaluate_transform(ctx: RunContext, frame: Frame, transform: Any, previous: Any, *, where: str) -> Any:
    """An input transform's value: static as given, javascript evaluated; either way a
    `"$var:path"` / `"$res:path"` string becomes the value it names, as Windmill resolves
    a job's args (so a flow input chosen in a resource picker reaches the step as the
    resource)."""
    kind = _get(transform, "type")
    if kind == "javascript":
        value = evaluate(ctx, frame, _get(transform, "expr") or "", previous, where=where)
    else:
        value = _get(transform, "value")
    if isinstance(value, str) and value.startswith(("$var:", "$res:")):
        return _vault(ctx).resolve_static(value, workspace=ctx.services.workspace)
    return value


def build_args(ctx: RunContext, frame: Frame, module: Any, previous: Any) -> dict[str, Any]:
    """Every input transform of a step, evaluated in declaration order."""
    transforms = getattr(module.value, "input_transforms", None) or {}
    return {
        name: evaluate_transform(ctx, frame, transform, previous, where=f"step {module.id}, input {name}")
        for name, transform in transforms.items()
    }


def _vault(ctx: RunContext) -> Any:
    from engine.vault import Vault

    return Vault.of(ctx.services.store)


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
