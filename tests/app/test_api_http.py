"""The REST API over HTTP against the running app, in Windmill's shapes."""

from __future__ import annotations

import httpx

from tests.app.apikit import APPROVAL, DOUBLE, W, ensure_flow, flow_body, py_step, wait_status


def test_api_refuses_requests_without_a_known_token(app_server):
    url = f"{app_server.url}{W}/flows/list"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert httpx.get(url, headers={"Authorization": f"Bearer {app_server.token}"}).status_code == 200


def test_first_start_imports_the_example_flows(api):
    paths = {flow["path"] for flow in api.get(f"{W}/flows/list").json()}
    assert {"f/examples/crm_sync", "f/examples/etl_daily", "f/examples/expense_approval"} <= paths


def test_created_flow_can_be_fetched_and_listed(api):
    body = flow_body("f/tests/created", [py_step("a", "def main():\n    return 1\n")])
    response = api.post(f"{W}/flows/create", json=body)
    assert response.status_code == 201, response.text

    fetched = api.get(f"{W}/flows/get/f/tests/created").json()
    assert fetched["summary"] == "test flow f/tests/created"
    assert fetched["value"]["modules"][0]["id"] == "a"
    assert "f/tests/created" in {flow["path"] for flow in api.get(f"{W}/flows/list").json()}
    assert api.post(f"{W}/flows/create", json=body).status_code == 400  # the path is taken


def test_get_of_an_unknown_flow_is_404(api):
    assert api.get(f"{W}/flows/get/f/tests/nothing_here").status_code == 404


def test_run_wait_result_returns_the_flow_result(api):
    path = ensure_flow(api, DOUBLE)
    response = api.post(f"{W}/jobs/run_wait_result/f/{path}", json={"x": 21})
    assert response.status_code == 200, response.text
    assert response.json() == {"doubled": 42}


def test_args_that_break_the_schema_are_refused(api):
    path = ensure_flow(api, DOUBLE)
    response = api.post(f"{W}/jobs/run_wait_result/f/{path}", json={"x": "many"})
    assert response.status_code == 400
    assert "x" in response.text


def test_started_run_result_can_be_fetched_by_id(api):
    path = ensure_flow(api, DOUBLE)
    response = api.post(f"{W}/jobs/run/f/{path}", json={"x": 5})
    assert response.status_code == 201, response.text
    run_id = response.text
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
    assert api.get(f"{W}/jobs_u/completed/get_result/{run_id}").json() == {"doubled": 10}


def test_signed_resume_link_continues_a_suspended_flow(api, app_server):
    path = ensure_flow(api, APPROVAL)
    run_id = api.post(f"{W}/jobs/run/f/{path}", json={}).text
    assert wait_status(api, run_id, {"suspended", "success", "failure"})["status"] == "suspended"

    urls = api.get(f"{W}/jobs/resume_urls/{run_id}/r1").json()
    assert urls["resume"].startswith(app_server.url)
    forged = urls["resume"].rsplit("/", 1)[0] + "/0123456789abcdef0123456789abcdef"
    assert httpx.post(forged, json={}).status_code == 401

    decided = httpx.post(urls["resume"], json={"ok": True})  # the link itself is the proof: no token
    assert decided.status_code == 200, decided.text
    assert decided.json()["verdict"] == "approved"
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
    result = api.get(f"{W}/jobs_u/completed/get_result/{run_id}").json()
    assert result["payload"] == {"ok": True}
    assert result["by"] == ["approval link"]


def test_demo_api_answers_without_a_token(app_server):
    response = httpx.get(f"{app_server.url}/api/demo/employees/e-100")
    assert response.status_code == 200
    assert response.json()["manager"]["email"] == "grace@example.com"
    assert httpx.get(f"{app_server.url}/api/demo/orders", params={"date": "2024-05-01"}).json()["total"] == 60
