"""Walk a flow: every step at every depth, every JavaScript expression, every inline script.

Paths are those of the full document (`value.modules[1].value.modules[0]`), the same paths
validation issues use, so a caller can point at the exact place in the editor.
"""

from __future__ import annotations

from typing import Iterator

from engine.openflow.base import JavascriptTransform
from engine.openflow.models import (
    BranchAll,
    BranchOne,
    FlowDocument,
    FlowModule,
    FlowValue,
    ForloopFlow,
    PathFlow,
    PathScript,
    RawScript,
    WhileloopFlow,
)
from engine.openflow.paths import join_path


def _flow_value(flow: FlowDocument | FlowValue) -> FlowValue:
    return flow.value if isinstance(flow, FlowDocument) else flow


def child_modules(module: FlowModule, path: str) -> Iterator[tuple[str, FlowModule]]:
    """The steps directly inside a loop or branch step, with their paths."""
    value, at = module.value, f"{path}.value"
    if isinstance(value, (ForloopFlow, WhileloopFlow)):
        for index, child in enumerate(value.modules):
            yield f"{at}.modules[{index}]", child
    elif isinstance(value, (BranchOne, BranchAll)):
        for branch_index, branch in enumerate(value.branches):
            for index, child in enumerate(branch.modules):
                yield f"{at}.branches[{branch_index}].modules[{index}]", child
        if isinstance(value, BranchOne):
            for index, child in enumerate(value.default):
                yield f"{at}.default[{index}]", child


def _walk(module: FlowModule, path: str) -> Iterator[tuple[str, FlowModule]]:
    yield path, module
    for child_path, child in child_modules(module, path):
        yield from _walk(child, child_path)


def iter_modules(
    flow: FlowDocument | FlowValue, *, root: str = "value"
) -> Iterator[tuple[str, FlowModule]]:
    """Yield (path, step) for every step at every depth, depth first, in run order.

    The preprocessor comes first and the failure step last, as they run.

    Args:
        flow: a document or its flow value.
        root: the path of the flow value ("value" in a document).
    """
    value = _flow_value(flow)
    if value.preprocessor_module is not None:
        yield from _walk(value.preprocessor_module, f"{root}.preprocessor_module")
    for index, module in enumerate(value.modules):
        yield from _walk(module, f"{root}.modules[{index}]")
    if value.failure_module is not None:
        yield from _walk(value.failure_module, f"{root}.failure_module")


def _transform_exprs(transforms: dict, at: str) -> Iterator[tuple[str, str]]:
    for name, transform in transforms.items():
        if isinstance(transform, JavascriptTransform):
            yield f"{join_path(at, name)}.expr", transform.expr


def _value_expressions(module: FlowModule, path: str) -> Iterator[tuple[str, str]]:
    value, at = module.value, f"{path}.value"
    if isinstance(value, (RawScript, PathScript, PathFlow)):
        yield from _transform_exprs(value.input_transforms, f"{at}.input_transforms")
    if isinstance(value, ForloopFlow):
        yield from _transform_exprs({"iterator": value.iterator}, at)
    if isinstance(value, (ForloopFlow, WhileloopFlow)):
        yield from _transform_exprs({"parallelism": value.parallelism}, at)
    if isinstance(value, (BranchOne, BranchAll)):
        for index, branch in enumerate(value.branches):
            if branch.expr is not None:
                yield f"{at}.branches[{index}].expr", branch.expr


def _option_expressions(module: FlowModule, path: str) -> Iterator[tuple[str, str]]:
    predicates = {
        "skip_if": module.skip_if,
        "stop_after_if": module.stop_after_if,
        "stop_after_all_iters_if": module.stop_after_all_iters_if,
    }
    for name, predicate in predicates.items():
        if predicate is not None:
            yield f"{path}.{name}.expr", predicate.expr
    if module.retry is not None and module.retry.retry_if is not None:
        yield f"{path}.retry.retry_if.expr", module.retry.retry_if.expr
    yield from _transform_exprs({"sleep": module.sleep, "timeout": module.timeout}, path)
    if module.suspend is not None:
        groups = {"user_groups_required": module.suspend.user_groups_required}
        yield from _transform_exprs(groups, f"{path}.suspend")


def iter_expressions(
    flow: FlowDocument | FlowValue, *, root: str = "value"
) -> Iterator[tuple[str, str]]:
    """Yield (path, expr) for every JavaScript expression in the flow.

    Covers the flow's skip_expr, input transforms, iterators, loop parallelism, branch
    exprs, skip_if, stop_after_if, stop_after_all_iters_if, retry_if, sleep, timeout and
    suspend.user_groups_required. The path ends at the expression (`...iterator.expr`).
    """
    value = _flow_value(flow)
    if value.skip_expr is not None:
        yield f"{root}.skip_expr", value.skip_expr
    for path, module in iter_modules(value, root=root):
        yield from _value_expressions(module, path)
        yield from _option_expressions(module, path)


def iter_rawscripts(
    flow: FlowDocument | FlowValue, *, root: str = "value"
) -> Iterator[tuple[str, RawScript]]:
    """Yield (path of the step's value, inline script) for every rawscript step."""
    for path, module in iter_modules(flow, root=root):
        if isinstance(module.value, RawScript):
            yield f"{path}.value", module.value
