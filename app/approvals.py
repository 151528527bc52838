"""Approval decisions: links signed per approver, and the step's approval rules.

A link names its approver and is signed over (run id, resume id, approver), so a link
sent to one person cannot be reused under another's name. The step's `suspend` options
decide who may answer: `user_auth_required` refuses links (the approver must call with
a token, or use the inbox); `self_approval_disabled` refuses the user who started the run.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from app import settings

LINK_APPROVER = "approval link"
"""The approver recorded for a link that names nobody."""


def sign(credentials: Any, run_id: str, resume_id: str, approver: str = "") -> str:
    """The signature of a link that lets `approver` resume or cancel one step of a run."""
    if not approver:
        return credentials.sign(run_id, resume_id)
    message = f"{run_id}/{resume_id}/{approver}".encode()
    return hmac.new(credentials.secret(), message, hashlib.sha256).hexdigest()[:32]


def check(credentials: Any, run_id: str, resume_id: str, approver: str, signature: str) -> bool:
    """True for a link signed for `approver`, or for a link signed for nobody.

    A link signed for nobody lets its holder name themselves (Windmill's `?approver=`);
    a link signed for one approver cannot be used under another's name.
    """
    if hmac.compare_digest(sign(credentials, run_id, resume_id, approver), signature):
        return True
    return bool(approver) and hmac.compare_digest(sign(credentials, run_id, resume_id), signature)


def links(credentials: Any, run_id: str, resume_id: str, approver: str = "") -> dict[str, str]:
    """The approval page, resume and cancel URLs for one approver."""
    from urllib.parse import quote

    signature = sign(credentials, run_id, resume_id, approver)
    base = f"{settings.public_url()}/api/w/{settings.WORKSPACE}/jobs_u"
    query = f"?approver={quote(approver)}" if approver else ""
    return {"approvalPage": f"{settings.public_url()}/approvals",
            "resume": f"{base}/resume/{run_id}/{resume_id}/{signature}{query}",
            "cancel": f"{base}/cancel/{run_id}/{resume_id}/{signature}{query}"}


def waiting_step(store: Any, run: Any) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
    """(step key, suspend state, the step's `suspend` options) of the step the run waits on."""
    steps = store.load_steps(run.id)
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
    starter = (run.state or {}).get("started_by")
    if approve and options.get("self_approval_disabled") and starter and approver == starter:
        return f"{approver} started this run and may not approve it (self-approval is disabled)"
    return None


def decisions(steps: dict[str, Any]) -> list[dict[str, Any]]:
    """Every approval decision of a run, oldest first, with its step (the audit trail)."""
    out = []
    for key, row in steps.items():
        for decision in ((row.data or {}).get("suspend") or {}).get("approvals") or []:
            out.append({**decision, "step": key})
    return sorted(out, key=lambda d: d.get("ts") or 0.0)


async def audit_endpoint(request: Any) -> Any:
    """GET the run's approval decisions (who, when, approved, payload, comment), oldest first."""
    from starlette.responses import JSONResponse, PlainTextResponse

    from app.engine_service import service

    run_id = request.path_params["run_id"]
    if service.store.get_run(run_id) is None:
        return PlainTextResponse(f"run {run_id!r} not found", 404)
    return JSONResponse(decisions(service.store.load_steps(run_id)))
