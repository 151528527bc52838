"""What running a module produced, and the signals that unwind a run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Outcome:
    """The result of running one module or a sequence of modules.

    status: "success", "failure" or "skipped". `stop` is set when an early stop fired
    (stop_after_if): the enclosing loop breaks, or at top level the flow ends.
    """

    status: str
    result: Any = None
    error: dict[str, Any] | None = None
    stop: bool = False

    @property
    def failed(self) -> bool:
        return self.status == "failure"

    @classmethod
    def ok(cls, result: Any, *, stop: bool = False) -> "Outcome":
        return cls("success", result, None, stop)

    @classmethod
    def fail(cls, error: dict[str, Any], result: Any = None) -> "Outcome":
        """A failure whose result is the error object unless a partial result is given."""
        return cls("failure", {"error": error} if result is None else result, error)


class SuspendRun(Exception):
    """Unwinds the interpreter when a step waits for approvals (not an error)."""

    def __init__(self, key: str, deadline: float | None):
        super().__init__(key)
        self.key, self.deadline = key, deadline
