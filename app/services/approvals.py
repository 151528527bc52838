"""Approval decisions: links signed per approver, who may ask for them, and the step's rules.

A link names its approver and is signed (purpose "approval-link") over (run id, resume
id, approver), so a link made for bob counts as bob only; a link made for nobody counts
as one anonymous approver (`LINK_APPROVER`), however often it is used. Who may ask for
links (`link_refusal`): an operator only for themselves; an admin, or the run's own
token (a flow mailing its approvers), for anyone, and such a request also reaches the
named approver's inbox (`app.services.approval_requests`). Approvals count once per approver
(the engine's rule), so `required_events: 2` needs two people. The step's `suspend`
options decide who may answer: `user_auth_required` refuses links (the approver calls
with a token, or uses the inbox); `self_approval_disabled` refuses the run's starter,
and anonymous links, whose user is unknown.
"""

from __future__ import annotations

from typing import Any

from app import settings
from app.services import starters

LINK_APPROVER = "approval link"
"""The approver recorded for a link that names nobody."""
PURPOSE = "approval-link"


def sign(run_id: str, resume_id: str, approver: str = "") -> str:
    """The signature of a link that lets `approver` (or, with "", anyone) decide one step of a run."""
    return _signer().sign(PURPOSE, run_id, resume_id, approver)


def check(run_id: str, resume_id: str, approver: str, signature: str) -> bool:
    """True only for a link signed for exactly `approver` ("" for a link that names nobody)."""
    return _signer().check(PURPOSE, signature, run_id, resume_id, approver)


def links(run_id: str, resume_id: str, approver: str = "") -> dict[str, str]:
    """The approval page, resume and cancel URLs for one approver."""
    from urllib.parse import quote

    signature = sign(run_id, resume_id, approver)
    base = f"{settings.public_url()}/api/w/{settings.WORKSPACE}/jobs_u"
    query = f"?approver={quote(approver)}" if approver else ""
    return {"approvalPage": f"{settings.public_url()}/approvals",
            "resume": f"{base}/resume/{run_id}/{resume_id}/{signature}{query}",
            "cancel": f"{base}/cancel/{run_id}/{resume_id}/{signature}{query}"}


def link_refusal(who: Any, run: Any, approver: str) -> str | None:
    """Why caller `who` may not have links for `approver` ("" for nobody) on `run`, or None."""
    root = run.root_run_id or run.id
    if who.run_id is not None:
        if who.run_id != root:
            return f"a run's token may ask approval links for its own run ({who.run_id}) only, not for run {root}"
        return None
    if who.is_admin or approver in ("", who.username):  # "": `link_approver` makes it theirs
        return None
    return (f"{who.username} is an operator: operators get approval links only for themselves, not for "
            f"{approver!r}; an admin, or the flow itself, can ask links for other approvers")


def link_approver(who: Any, asked: str) -> str:
    """Whom the links are for: the approver asked for, else the caller when an operator
    (operators never get anonymous links), else nobody ("")."""
    if asked or who.run_id is not None or who.is_admin:
        return asked
    return who.username


def _signer() -> Any:
    from engine import Vault

    from app.services.engine_service import service

    return Vault.of(service.store).signer


def waiting_step(store: Any, run: Any) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
    """(step key, suspend state, the step's `suspend` options) of the step the run waits on."""
    from engine import RunJournal

    steps = RunJournal(store, run).approval_steps()
    undecided = [(key, row) for key, row in steps.items() if _undecided((row.data or {}).get("suspend"))]
    if not undecided:
        return None
    # as the engine does: the run waits on the newest undecided step
    key, record = max(undecided, key=lambda item: item[1].data["suspend"].get("asked_at") or 0.0)
    module = find_module(run.flow, record.step_id) or {}
    return key, record.data["suspend"], dict(module.get("suspend") or {})


def _undecided(state: Any) -> bool:
    if not isinstance(state, dict):
        return False
    approvals = state.get("approvals") or []
    return not any(not a.get("approved") for a in approvals) and len(approvals) < int(state.get("required") or 1)


def find_module(value: Any, step_id: str) -> dict[str, Any] | None:
    """The module with id `step_id` anywhere in a dumped flow value (loops, branches too)."""
    if isinstance(value, dict):
        if value.get("id") == step_id and "value" in value:
            return value
        children = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return None
    for child in children:
        found = find_module(child, step_id)
        if found is not None:
            return found
    return None


def refusal(run: Any, options: dict[str, Any], *, approver: str, via_link: bool, approve: bool) -> str | None:
    """Why this decision is not allowed (a message), or None when it is."""
    if via_link and options.get("user_auth_required"):
        return "this step requires a logged-in approver: approval links are refused (use the inbox or a token)"
    if not (approve and options.get("self_approval_disabled")):
        return None
    if approver == LINK_APPROVER:
        return ("self-approval is disabled on this step, so it must know who approves: a link made for nobody "
                "cannot approve it (ask for a link for a named approver, or use the inbox)")
    starter = starters.starter(run).username
    if starter and approver == starter:
        return f"{approver} started this run and may not approve it (self-approval is disabled)"
    return None


def decisions(steps: dict[str, Any]) -> list[dict[str, Any]]:
    """Every approval decision of a run, oldest first, with its step (the audit trail)."""
    out = []
    for key, row in steps.items():
        for decision in ((row.data or {}).get("suspend") or {}).get("approvals") or []:
            out.append({**decision, "step": key})
    return sorted(out, key=lambda d: d.get("ts") or 0.0)
