"""The error object of a step that failed: what every executor module records.

Its own module because the step runner, loops, modules and suspend all build these,
and suspend is itself used by the step runner.
"""

from __future__ import annotations

from typing import Any

from engine.errors import StepFailure
from engine.executor.context import Frame


def failure(frame: Frame, module: Any, name: str, message: str) -> dict[str, Any]:
    """An error object naming the step and, inside loops, the iteration."""
    return StepFailure(name, message, step_id=module.id, iteration=frame.iteration).to_dict()
