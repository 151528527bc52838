"""The names an expression can read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STANDARD_NAMES = ("flow_input", "results", "previous_result", "result", "flow_env")


@dataclass
class Scope:
    """What an expression sees as top-level names.

    Values are JSON-able Python values and are only read, never changed.
    """

    flow_input: dict
    """The flow's input; inside loops it also holds `iter` ({index, value}) and `iter_parent`."""
    results: Mapping[str, Any]
    """Step id -> result. Only the ids an expression references are read; an absent id is null."""
    previous_result: Any = None
    """The result of the step that ran just before."""
    result: Any = None
    """The step's own result, for predicates such as stop_after_if."""
    flow_env: dict = field(default_factory=dict)
    """The flow's environment values."""
    extra: dict[str, Any] = field(default_factory=dict)
    """More top-level names (e.g. `resume`, `resumes`, `approvers`)."""
