"""Approvals over HTTP: links signed per approver, the step's rules, the audit trail."""

from __future__ import annotations

import json
import sqlite3

import httpx

from tests.app.apikit import W, client, ensure_flow, flow_body, new_user, py_step, wait_status

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


# Who may ask for links, and how approvals count: one person can never be two approvers.

def _two_approver_flow(name: str) -> dict:
    return _approval_flow(name, required_events=2, self_approval_disabled=True)


def _started_by(token_client: httpx.Client, api: httpx.Client, body: dict) -> str:
    path = ensure_flow(api, body)
    run_id = token_client.post(f"{W}/jobs/run/f/{path}", json={}).text
    assert wait_status(api, run_id, {"suspended", "success", "failure"})["status"] == "suspended"
    return run_id


def test_an_operator_gets_approval_links_only_for_themselves(api):
    name, token = new_user(api, "operator", "op")
    run_id = _suspended_run(api, _approval_flow("appr_own_links"))
    with client(api, token) as operator:
        refused = operator.get(f"{W}/jobs/resume_urls/{run_id}/r1", params={"approver": "bob"})
        assert refused.status_code == 403
        assert refused.text.startswith(f"{name} is an operator: operators get approval links only for themselves, "
                                       "not for 'bob'")
        own = operator.get(f"{W}/jobs/resume_urls/{run_id}/r1").json()
    assert f"?approver={name}" in own["resume"]
    decided = httpx.post(own["resume"], json={})
    assert decided.status_code == 200 and decided.json()["approver"] == name


def test_an_operator_alone_cannot_meet_two_approvals_with_self_approval_disabled(api):
    name, token = new_user(api, "operator", "op")
    with client(api, token) as operator:
        run_id = _started_by(operator, api, _two_approver_flow("appr_attack"))
        for other in ("bob", "carol"):
            assert operator.get(f"{W}/jobs/resume_urls/{run_id}/{other}",
                                params={"approver": other}).status_code == 403
        own = operator.get(f"{W}/jobs/resume_urls/{run_id}/mine").json()["resume"]
        as_bob = own.replace(f"approver={name}", "approver=bob")
        nameless = own.split("?")[0]
        self_approval = httpx.post(own, json={})
        with_token = operator.post(own, json={})
    assert self_approval.status_code == 403 and "self-approval is disabled" in self_approval.text
    assert with_token.status_code == 403 and "self-approval is disabled" in with_token.text
    assert httpx.post(as_bob, json={}).status_code == 401
    assert httpx.post(nameless, json={}).status_code == 401
    assert api.get(f"{W}/jobs_u/approvals/{run_id}").json() == []
    assert wait_status(api, run_id, {"suspended"})["status"] == "suspended"


def test_bob_and_carol_each_approve_a_step_an_operator_started(api, app_server):
    _, token = new_user(api, "operator", "op")
    with client(api, token) as operator:
        run_id = _started_by(operator, api, _two_approver_flow("appr_two_people"))
    bob, carol = (_links(api, run_id, who, resume_id=f"{who}-1") for who in ("bob", "carol"))
    assert httpx.post(bob["resume"], json={"from": "bob"}).json()["verdict"] == "waiting"
    again = httpx.post(_links(api, run_id, "bob", resume_id="bob-2")["resume"], json={})
    assert again.status_code == 400 and "bob has already decided" in again.text
    assert httpx.post(carol["resume"], json={"from": "carol"}).json()["verdict"] == "approved"
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
    assert api.get(f"{W}/jobs_u/completed/get_result/{run_id}").json()["by"] == ["bob", "carol"]
    assert _requests(app_server, run_id) == [("bob", "admin"), ("carol", "admin"), ("bob", "admin")]


def test_a_link_for_nobody_counts_once_and_cannot_approve_without_self_approval(api):
    run_id = _suspended_run(api, _approval_flow("appr_nameless_twice", required_events=2))
    first, second = (api.get(f"{W}/jobs/resume_urls/{run_id}/{r}").json()["resume"] for r in ("n1", "n2"))
    assert httpx.post(first, json={}).json()["verdict"] == "waiting"
    twice = httpx.post(second, json={})
    assert twice.status_code == 400 and "approval link has already decided" in twice.text
    guarded = _suspended_run(api, _approval_flow("appr_nameless_guarded", self_approval_disabled=True))
    refused = httpx.post(api.get(f"{W}/jobs/resume_urls/{guarded}/n1").json()["resume"], json={})
    assert refused.status_code == 403 and "a link made for nobody cannot approve it" in refused.text


ASK_BOB = '''
import os, urllib.request, urllib.error
import wmill

def main(other: str):
    request = urllib.request.Request(
        f"{os.environ['BASE_INTERNAL_URL']}/api/w/main/jobs/resume_urls/{other}/x?approver=bob",
        headers={"Authorization": "Bearer " + os.environ["WM_TOKEN"]})
    try:
        other_status = urllib.request.urlopen(request).status
    except urllib.error.HTTPError as error:
        other_status = error.code
    return {"bob": wmill.get_resume_urls("bob"), "other_run": other_status}
'''


def test_a_flow_asks_links_for_a_named_approver_with_its_own_token(api, app_server):
    _, token = new_user(api, "operator", "op")
    other = _suspended_run(api, _approval_flow("appr_someone_else"))
    ask = {**py_step("ask", ASK_BOB, other="flow_input.other"), "suspend": {"required_events": 1, "timeout": 600}}
    body = flow_body("f/tests/appr_flow_asks", [ask, AFTER], {"other": {"type": "string"}})
    with client(api, token) as operator:
        run_id = operator.post(f"{W}/jobs/run/f/{ensure_flow(api, body)}", json={"other": other}).text
    assert wait_status(api, run_id, {"suspended", "success", "failure"})["status"] == "suspended"
    asked = _step_result(app_server, run_id, "ask")
    assert asked["other_run"] == 403
    assert httpx.post(asked["bob"]["resume"], json={}).json()["approver"] == "bob"
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
    assert _requests(app_server, run_id)[0][0] == "bob"


def _requests(app_server, run_id: str) -> list[tuple[str, str]]:
    with sqlite3.connect(app_server.db_url.removeprefix("sqlite:///")) as db:
        return db.execute("SELECT approver, asked_by FROM app_approval_requests WHERE run_id = ? ORDER BY id",
                          (run_id,)).fetchall()


def _step_result(app_server, run_id: str, key: str) -> dict:
    with sqlite3.connect(app_server.db_url.removeprefix("sqlite:///")) as db:
        (raw,) = db.execute("SELECT result FROM steps WHERE run_id = ? AND key = ?", (run_id, key)).fetchone()
    return json.loads(raw)
