"""Loading a flow and checking everything that can be checked before it runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_checked_flow(path: str | Path, *, evaluator: Any = None) -> Any:
    """Load a flow file and validate it fully: structure, ids, expressions, scripts.

    Raises FlowLoadError or FlowValidationError (both BadInput) naming what and where.
    """
    from engine.openflow import load_flow

    document = load_flow(path)
    check_flow(document, evaluator=evaluator)
    return document


def check_flow(document: Any, *, evaluator: Any = None) -> None:
    """Validate a loaded flow's ids, expressions and inline scripts."""
    from engine.expressions import Evaluator
    from engine.openflow import iter_modules, validate_flow
    from engine.runners import check_script

    evaluator = evaluator or Evaluator()
    steps = sorted(((path, module.id) for path, module in iter_modules(document)), key=lambda p: -len(p[0]))

    def step_of(where: str) -> str:
        step = next((sid for path, sid in steps if where.startswith(path + ".")), None)
        return f"step {step}" if step else "flow"

    validate_flow(
        document,
        check_expression=lambda expr, where: evaluator.check(expr, where=step_of(where)),
        check_script=lambda language, content, where: check_script(
            language, content, preprocessor=where.startswith("value.preprocessor_module.")),
    )
