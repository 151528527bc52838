"""A run's own token (WM_TOKEN), used by a real step over HTTP: whom it acts for, where, how long."""

from __future__ import annotations

import sqlite3
import time

import httpx

from tests.app.apikit import W, client, ensure_flow, flow_body, new_user, py_step

PROBE_CODE = '''
import json, os, urllib.request, urllib.error

def call(method, path, body=None):
    request = urllib.request.Request(os.environ["BASE_INTERNAL_URL"] + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": "Bearer " + os.environ["WM_TOKEN"],
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            return [response.status, response.read().decode()]
    except urllib.error.HTTPError as error:
        return [error.code, error.read().decode()]

def main(calls: list):
    return {"token": os.environ["WM_TOKEN"], "run": os.environ["WM_ROOT_FLOW_JOB_ID"],
            "answers": [call(*c) for c in calls]}
'''
PROBE = flow_body("f/tests/run_token_calls", [py_step("probe", PROBE_CODE, calls="flow_input.calls")],
                  {"calls": {"type": "array"}})


def _probe(api: httpx.Client, calls: list) -> dict:
    """Run the probe flow with the token of `api`; its result (the run's token and the answers)."""
    path = ensure_flow(api, PROBE)
    response = api.post(f"{W}/jobs/run_wait_result/f/{path}", json={"calls": calls}, params={"timeout": 60})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_run_token_acts_for_the_operator_who_started_the_run(api):
    name, token = new_user(api, "operator", "op")
    variable = {"path": f"u/{name}/from_step", "value": "x"}
    calls = [["GET", f"{W}/users/whoami"], ["GET", f"{W}/flows/list"], ["POST", f"{W}/variables/create", variable]]
    ensure_flow(api, PROBE)
    with client(api, token) as operator:
        (whoami, listed, created) = _probe(operator, calls)["answers"]
    assert whoami[0] == 200 and '"username":"%s"' % name in whoami[1].replace(" ", "")
    assert listed[0] == 200
    assert created == [403, f"this run's token acts for {name}, who is not an admin: only admins may do this"]
    assert api.get(f"{W}/variables/exists/{variable['path']}").json() is False


def test_a_run_token_acts_for_the_admin_who_started_the_run(api):
    variable = {"path": "u/admin/from_admin_run", "value": "x"}
    whoami, created = _probe(api, [["GET", f"{W}/users/whoami"], ["POST", f"{W}/variables/create", variable]]
                             )["answers"]
    assert whoami[0] == 200 and '"is_admin":true' in whoami[1].replace(" ", "")
    assert created[0] == 201, created
    assert api.get(f"{W}/variables/get_value/{variable['path']}").json() == "x"


def test_a_run_token_cannot_create_users_or_tokens_nor_read_webhook_secrets_even_for_an_admin(api):
    intruder = {"username": "intruder", "password": "pw-intruder-1", "role": "admin"}
    calls = [["POST", "/api/users/create", intruder], ["POST", f"{W}/users/create", intruder],
             ["POST", "/api/users/tokens/create", {"label": "stolen"}], ["GET", "/api/users/list"],
             ["GET", f"{W}/flows/webhook_secret/{PROBE['path']}"], ["GET", "/api/users/whoami"]]
    answers = _probe(api, calls)["answers"]
    assert [status for status, _ in answers] == [403, 403, 403, 403, 403, 200]
    assert "a run's token may not create users or tokens nor read webhook secrets" in answers[0][1]
    assert "intruder" not in {user["username"] for user in api.get("/api/users/list").json()}


def test_a_run_token_is_refused_in_another_workspace(api):
    [other] = _probe(api, [["GET", "/api/w/other/flows/list"]])["answers"]
    assert other == [403, "this run's token is for workspace 'main', not 'other'"]


def test_a_run_token_works_for_a_grace_period_after_its_run_then_stops(api, app_server):
    result = _probe(api, [])
    headers = {"Authorization": f"Bearer {result['token']}"}
    assert httpx.get(f"{app_server.url}{W}/flows/list", headers=headers).status_code == 200  # ended just now
    run_id = result["run"]
    with sqlite3.connect(app_server.db_url.removeprefix("sqlite:///")) as db:
        db.execute("UPDATE runs SET finished_at = ? WHERE id = ?", (time.time() - 901, run_id))
    late = httpx.get(f"{app_server.url}{W}/flows/list", headers=headers)
    assert late.status_code == 401
    assert f"run {run_id} ended at" in late.text and "stopped working 900 s later" in late.text


def test_a_changed_run_token_is_refused(api, app_server):
    token = _probe(api, [])["token"]
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    response = httpx.get(f"{app_server.url}{W}/flows/list", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401 and "signature does not check" in response.text


def test_a_scheduled_run_acts_for_whoever_last_saved_the_schedule(api):
    ensure_flow(api, PROBE)
    name, token = new_user(api, "admin", "sched")
    path = f"f/tests/{name.replace('-', '_')}"
    body = {"path": path, "schedule": "* * * * * *", "timezone": "UTC", "script_path": PROBE["path"],
            "is_flow": True, "args": {"calls": [["GET", f"{W}/users/whoami"]]}}
    with client(api, token) as scheduler_admin:
        assert scheduler_admin.post(f"{W}/schedules/create", json=body).status_code == 201
    try:
        assert api.get(f"{W}/schedules/get/{path}").json()["edited_by"] == name
        run = _first_finished(api, path)
    finally:
        api.delete(f"{W}/schedules/delete/{path}")
    assert run["success"], run
    [whoami] = run["result"]["answers"]
    assert whoami[0] == 200 and '"username":"%s"' % name in whoami[1].replace(" ", "")


def _first_finished(api: httpx.Client, schedule: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [r for r in api.get(f"{W}/schedules/runs/{schedule}").json() if r["status"] in ("success", "failure")]
        if done:
            return done[-1]
        time.sleep(0.2)
    raise AssertionError(f"schedule {schedule} finished no run in {timeout} s")

