"""Approvals over HTTP: links signed per approver, the step's rules, the audit trail."""

from __future__ import annotations

import httpx

from tests.app.apikit import W, ensure_flow, flow_body, py_step, wait_status

AFTER = py_step("after", "def main(payload, approvers: list):\n    return {'payload': payload, 'by': approvers}\n",
                payload="resume", approvers="approvers")


def _approval_flow(name: str, **suspend) -> dict:
    ask = {**py_step("ask", "def main():\n    return 'asked'\n"),
           "suspend": {"required_events": 1, "timeout": 600, **suspend}}
    return flow_body(f"f/tests/{name}", [ask, AFTER])


def _suspended_run(api: httpx.Client, body: dict) -> str:
    run_id = api.post(f"{W}/jobs/run/f/{ensure_flow(api, body)}", json={}).text
    assert wait_status(api, run_id, {"suspended", "success", "failure"})["status"] == "suspended"
    return run_id


def _links(api: httpx.Client, run_id: str, approver: str, resume_id: str = "r1") -> dict:
    return api.get(f"{W}/jobs/resume_urls/{run_id}/{resume_id}", params={"approver": approver}).json()


def test_approve_link_of_a_named_approver_continues_the_run_and_is_audited(api):
    run_id = _suspended_run(api, _approval_flow("appr_ok"))
    links = _links(api, run_id, "ada@example.com")
    decided = httpx.post(links["resume"] + "&comment=looks%20good", json={"amount": 3})
    assert decided.status_code == 200, decided.text
    assert decided.json()["verdict"] == "approved"
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
    assert api.get(f"{W}/jobs_u/completed/get_result/{run_id}").json() == {
        "payload": {"amount": 3}, "by": ["ada@example.com"]}
    [decision] = api.get(f"{W}/jobs_u/approvals/{run_id}").json()
    assert decision["approver"] == "ada@example.com" and decision["approved"] is True
    assert decision["comment"] == "looks good" and decision["payload"] == {"amount": 3}
    assert decision["step"] == "ask" and decision["ts"] > 0


def test_a_link_signed_for_one_approver_does_not_work_for_another(api):
    run_id = _suspended_run(api, _approval_flow("appr_forged"))
    forged = _links(api, run_id, "ada@example.com")["resume"].replace("ada%40example.com", "mallory")
    anonymous = api.get(f"{W}/jobs/resume_urls/{run_id}/r1").json()["resume"]
    assert forged.split("?")[0] != anonymous  # a named link is not the anonymous one
    assert httpx.get(forged).status_code == 401
    assert wait_status(api, run_id, {"suspended"})["status"] == "suspended"


def test_reject_link_fails_the_run_with_the_comment_kept(api):
    run_id = _suspended_run(api, _approval_flow("appr_reject"))
    decided = httpx.get(_links(api, run_id, "bob")["cancel"] + "&comment=too%20expensive")
    assert decided.status_code == 200 and decided.json()["verdict"] == "rejected"
    job = wait_status(api, run_id, {"success", "failure"})
    assert job["status"] == "failure"
    assert job["result"]["error"]["name"] == "SuspendedDisapproved"
    assert "bob" in job["result"]["error"]["message"]
    [decision] = api.get(f"{W}/jobs_u/approvals/{run_id}").json()
    assert (decision["approved"], decision["comment"]) == (False, "too expensive")


def test_unanswered_step_times_out_and_a_late_link_changes_nothing(api):
    run_id = _suspended_run(api, _approval_flow("appr_timeout", timeout=1))
    job = wait_status(api, run_id, {"success", "failure"})
    assert job["status"] == "failure"
    assert job["result"]["error"]["name"] == "SuspendedTimedOut"
    late = httpx.get(_links(api, run_id, "ada")["resume"])
    assert late.status_code in (200, 404)
    assert wait_status(api, run_id, {"failure"})["status"] == "failure"


def test_user_auth_required_refuses_links_but_accepts_a_token(api, app_server):
    run_id = _suspended_run(api, _approval_flow("appr_auth", user_auth_required=True))
    links = _links(api, run_id, "ada")
    refused = httpx.get(links["resume"])
    assert refused.status_code == 403 and "logged-in" in refused.text
    with_token = httpx.get(links["resume"], headers={"Authorization": f"Bearer {app_server.token}"})
    assert with_token.status_code == 200, with_token.text
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
    assert api.get(f"{W}/jobs_u/completed/get_result/{run_id}").json()["by"] == ["admin"]


def test_self_approval_disabled_refuses_the_user_who_started_the_run(api, app_server):
    run_id = _suspended_run(api, _approval_flow("appr_self", self_approval_disabled=True))
    links = _links(api, run_id, "ada")
    own = httpx.get(links["resume"], headers={"Authorization": f"Bearer {app_server.token}"})
    assert own.status_code == 403 and "self-approval" in own.text
    assert httpx.get(links["resume"]).status_code == 200  # ada did not start it
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
