"""Per-step policies: retry, early stop, skip, suspend (approval) and mock."""

from __future__ import annotations

import random
from typing import Any, Callable

from pydantic import Field

from engine.openflow.base import InputTransform, Number, OpenFlowModel


class RetryIf(OpenFlowModel):
    """Retry only when this expression over `result` (the error) is truthy."""

    expr: str


class ConstantRetry(OpenFlowModel):
    """Retry `attempts` times, waiting `seconds` before each retry."""

    attempts: int = Field(0, ge=0)
    """How many retries after the first run."""
    seconds: Number = Field(0, ge=0)
    """Wait before each retry."""


class ExponentialRetry(OpenFlowModel):
    """Retry `attempts` times, waiting `multiplier * seconds ** (retry + 1)`."""

    attempts: int = Field(0, ge=0)
    """How many retries after the first run."""
    multiplier: Number = Field(1, ge=0)
    """Factor applied to the growing wait."""
    seconds: Number = Field(0, ge=0)
    """Base raised to the power retry + 1."""
    random_factor: int | None = Field(None, ge=0, le=100)
    """Jitter: up to this percentage of the wait is added at random."""


Jitter = Callable[[], float]
"""Returns a number in [0, 1); `random.random` by default, a constant in tests."""


class Retry(OpenFlowModel):
    """How a failing step is retried.

    Rule when both are given: the exponential policy wins if its `attempts` > 0, else the
    constant one applies if its `attempts` > 0, else there is no retry. A step therefore
    runs at most `max_attempts + 1` times.
    """

    constant: ConstantRetry | None = None
    exponential: ExponentialRetry | None = None
    retry_if: RetryIf | None = None

    @property
    def active(self) -> ConstantRetry | ExponentialRetry | None:
        """The policy in force (see the class rule), or None when nothing retries."""
        if self.exponential is not None and self.exponential.attempts > 0:
            return self.exponential
        if self.constant is not None and self.constant.attempts > 0:
            return self.constant
        return None

    @property
    def max_attempts(self) -> int:
        """How many retries are allowed after the first run (0: none)."""
        policy = self.active
        return policy.attempts if policy is not None else 0

    def delay(self, attempt: int, *, jitter: Jitter = random.random) -> float:
        """Seconds to wait before a retry.

        Args:
            attempt: 0 for the first retry, 1 for the second, ...
            jitter: source of randomness in [0, 1) for `random_factor`; inject a constant
                for deterministic tests.

        Returns:
            The wait in seconds (0.0 when no policy is in force).
        """
        policy = self.active
        if isinstance(policy, ConstantRetry):
            return float(policy.seconds)
        if isinstance(policy, ExponentialRetry):
            wait = float(policy.multiplier * policy.seconds ** (attempt + 1))
            if policy.random_factor:
                wait += wait * policy.random_factor / 100 * jitter()
            return wait
        return 0.0


class StopAfterIf(OpenFlowModel):
    """Stop the flow (or the loop) early when `expr` over `result` is truthy."""

    expr: str
    skip_if_stopped: bool | None = None
    """Mark the flow skipped rather than successful when it stops here."""
    error_message: str | None = None
    """When set, stopping is a failure with this message."""
    error_include_result: bool | None = None
    """Whether the failure carries the step's result."""


class SkipIf(OpenFlowModel):
    """Skip the step when `expr` is truthy."""

    expr: str


class ResumeForm(OpenFlowModel):
    """The form an approver fills in to resume a suspended step."""

    schema_: dict[str, Any] | None = Field(None, alias="schema")
    """JSON Schema of the resume payload (`schema` in the document)."""


class Suspend(OpenFlowModel):
    """Suspend the flow after the step until enough approvals (resume events) arrive."""

    required_events: int | None = Field(None, ge=0)
    """Approvals needed before the flow continues."""
    timeout: int | None = Field(None, ge=0)
    """Seconds to wait for approvals."""
    resume_form: ResumeForm | None = None
    user_auth_required: bool | None = None
    user_groups_required: InputTransform | None = None
    """Groups allowed to approve (an input transform giving a list of names)."""
    self_approval_disabled: bool | None = None
    hide_cancel: bool | None = None
    continue_on_disapprove_timeout: bool | None = None
    """On timeout, continue instead of failing."""


class Mock(OpenFlowModel):
    """Return a fixed value instead of running the step, when enabled."""

    enabled: bool = False
    return_value: Any = None
