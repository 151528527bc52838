"""Suspend/approval: a step with `suspend` leaves the run waiting after it ran.

The waiting state lives in the step's journal record (`data.suspend`): how many
approvals are required, the deadline, and every decision received. `decide` is pure;
`wait` either lets the run go on (setting `resume`, `resumes` and `approvers` for the
next step), fails it, or unwinds it with SuspendRun so it can be continued later,
by this process or another one, after a restart too.
"""

from __future__ import annotations

from typing import Any

from engine.executor.context import Frame, RunContext
from engine.executor.outcome import Outcome, SuspendRun
from engine.executor.failures import failure

DEFAULT_TIMEOUT = 1800.0


def wants_suspend(module: Any) -> bool:
    """True when the module asks for at least one approval."""
    spec = getattr(module, "suspend", None)
    return spec is not None and (getattr(spec, "required_events", None) or 0) > 0


def new_state(module: Any, now: float) -> dict[str, Any]:
    spec = module.suspend
    timeout = getattr(spec, "timeout", None)
    return {
        "required": int(spec.required_events),
        "asked_at": now,
        "deadline": now + float(timeout if timeout else DEFAULT_TIMEOUT),
        "approvals": [],
    }


def decide(state: dict[str, Any], now: float) -> str:
    """'approved', 'rejected', 'timed_out' or 'waiting', from the decisions so far.

    Decisions that arrive after the deadline do not count; approvals count once per
    approver, so `required_events: 2` needs two different people.
    """
    deadline = state.get("deadline")
    in_time = [a for a in state["approvals"] if deadline is None or a.get("ts", 0) <= deadline]
    if any(not a["approved"] for a in in_time):
        return "rejected"
    if len({identity(a) for a in in_time if a["approved"]}) >= state["required"]:
        return "approved"
    if deadline is not None and now >= deadline:
        return "timed_out"
    return "waiting"


def identity(decision: dict[str, Any]) -> str:
    """Who a decision counts for: its approver, or (none named) its own resume id."""
    approver = decision.get("approver")
    return f"approver:{approver}" if approver else f"resume:{decision['resume_id']}"


def decided_already(state: dict[str, Any], approver: str | None, resume_id: str) -> bool:
    """Whether the named `approver` decided on this step before under another resume id
    (the same resume id again is a repeated request, which `add_decision` ignores)."""
    return bool(approver) and any(a.get("approver") == approver and a["resume_id"] != resume_id
                                  for a in state["approvals"])


def add_decision(state: dict[str, Any], decision: dict[str, Any]) -> bool:
    """Record one decision; the same resume_id twice counts once (returns False)."""
    if any(a["resume_id"] == decision["resume_id"] for a in state["approvals"]):
        return False
    state["approvals"].append(decision)
    return True


async def wait(ctx: RunContext, frame: Frame, module: Any, key: str, outcome: Outcome) -> Outcome:
    """Go on, fail, or unwind the run until enough approvals arrive."""
    record = ctx.journal.refresh(key) or ctx.journal.get(key)
    state = record.data.get("suspend")
    if state is None:
        state = new_state(module, ctx.clock.now())
        record.data["suspend"] = state
        ctx.journal.save(key, record)
    verdict = decide(state, ctx.clock.now())
    if verdict == "waiting":
        ctx.emit("run_suspended", step_id=module.id, key=key, iteration=frame.iteration,
                 data={"required": state["required"], "deadline": state["deadline"],
                       "received": len(state["approvals"])})
        raise SuspendRun(key, state["deadline"])
    carry_on = bool(getattr(module.suspend, "continue_on_disapprove_timeout", False))
    if verdict == "approved" or carry_on:
        frame.extra = _resume_names(module, state, verdict)
        return outcome
    if verdict == "rejected":
        who = next(a for a in state["approvals"] if not a["approved"])
        message = f"step {module.id} was disapproved by {who.get('approver') or 'anonymous'}"
        return Outcome.fail(failure(frame, module, "SuspendedDisapproved", message))
    message = f"step {module.id} timed out waiting for {state['required']} approval(s)"
    return Outcome.fail(failure(frame, module, "SuspendedTimedOut", message))


def _resume_names(module: Any, state: dict[str, Any], verdict: str) -> dict[str, Any]:
    approvals = [a for a in state["approvals"] if a["approved"] or verdict != "approved"]
    payloads = [a.get("payload") for a in approvals]
    if not payloads and verdict == "timed_out":
        payloads = [_form_defaults(module)]
    return {
        "resume": payloads[-1] if payloads else None,
        "resumes": payloads,
        "approvers": [a.get("approver") for a in approvals],
    }


def _form_defaults(module: Any) -> dict[str, Any]:
    form = getattr(module.suspend, "resume_form", None)
    schema = (form.get("schema") if isinstance(form, dict) else getattr(form, "schema_", None)) or {}
    props = schema.get("properties", {}) if isinstance(schema, dict) else {}
    return {name: spec["default"] for name, spec in props.items() if isinstance(spec, dict) and "default" in spec}
