"""The steps of a flow document as parsed data, before it is checked against the models.

What must change a document before validation (step ids Windmill makes up, `!inline`
files) walks it here; data of the wrong shape is passed over, for validation to report.
"""

from __future__ import annotations

from typing import Any, Iterator


def raw_steps(document: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, step) for every step (a dict) of a document's `value`, in run order.

    Paths are those validation reports (`value.modules[1].value.modules[0]`); the
    preprocessor comes first and the failure step last, as they run.
    """
    value = document.get("value") if isinstance(document, dict) else None
    if not isinstance(value, dict):
        return
    yield from _each(value.get("preprocessor_module"), "value.preprocessor_module")
    yield from _each_of(value.get("modules"), "value.modules")
    yield from _each(value.get("failure_module"), "value.failure_module")


def _each_of(modules: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(modules, list):
        for index, module in enumerate(modules):
            yield from _each(module, f"{path}[{index}]")


def _each(module: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(module, dict):
        return
    yield path, module
    inner = module.get("value")
    if not isinstance(inner, dict):
        return
    yield from _each_of(inner.get("modules"), f"{path}.value.modules")
    branches = inner.get("branches")
    for index, branch in enumerate(branches if isinstance(branches, list) else ()):
        if isinstance(branch, dict):
            yield from _each_of(branch.get("modules"), f"{path}.value.branches[{index}].modules")
    yield from _each_of(inner.get("default"), f"{path}.value.default")
