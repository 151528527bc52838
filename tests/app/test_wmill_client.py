"""The unmodified `wmill` client, inside a flow step run by the real server."""

from __future__ import annotations

from tests.app.apikit import W, ensure_flow, flow_body, py_step, wait_status

SECRET = "wmill-secret-value-77"

WMILL_STEP = '''
import wmill

def main():
    secret = wmill.get_variable("u/admin/wmill_pw")
    print("the secret is", secret)
    api = wmill.get_resource("u/admin/wmill_api")
    before = wmill.get_state()
    wmill.set_state({"count": (before or {}).get("count", 0) + 1})
    wmill.set_variable("u/admin/wmill_written", "from a step")
    wmill.set_flow_user_state("seen", {"ok": True})
    urls = wmill.get_resume_urls()
    return {"secret_ok": secret == "%s", "api": api, "api_ok": api["token"] == secret, "before": before, "after": wmill.get_state(),
            "user_state": wmill.get_flow_user_state("seen"), "has_resume": "/jobs_u/resume/" in urls["resume"]}
''' % SECRET


def test_wmill_client_reads_and_writes_through_the_api(api):
    api.post(f"{W}/variables/create", json={"path": "u/admin/wmill_pw", "value": SECRET, "is_secret": True})
    api.post(f"{W}/resources/create", json={"path": "u/admin/wmill_api", "resource_type": "http",
                                           "value": {"base_url": "http://b", "token": "$var:u/admin/wmill_pw"}})
    path = ensure_flow(api, flow_body("f/tests/wmill_client", [py_step("use", WMILL_STEP)]))

    first = api.post(f"{W}/jobs/run_wait_result/f/{path}", json={})
    assert first.status_code == 200, first.text
    result = first.json()
    assert result["secret_ok"] and result["api_ok"]  # the step got the real values
    assert result["api"] == {"base_url": "http://b", "token": "***"}  # what is served of them is masked
    assert result["before"] is None and result["after"] == {"count": 1}
    assert result["user_state"] == {"ok": True} and result["has_resume"]
    assert api.get(f"{W}/variables/get_value/u/admin/wmill_written").json() == "from a step"

    second = api.post(f"{W}/jobs/run_wait_result/f/{path}", json={}).json()
    assert second["before"] == {"count": 1} and second["after"] == {"count": 2}


def test_secret_printed_by_a_step_is_masked_in_its_logs(api, app_server):
    from engine import Store

    api.post(f"{W}/variables/create", json={"path": "u/admin/wmill_pw", "value": SECRET, "is_secret": True})
    path = ensure_flow(api, flow_body("f/tests/wmill_client", [py_step("use", WMILL_STEP)]))
    run_id = api.post(f"{W}/jobs/run/f/{path}", json={}).text
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
    with Store.open(app_server.db_url) as store:
        lines = [line.line for line in store.get_logs(run_id, limit=1000)]
    assert "the secret is ***" in lines and not any(SECRET in line for line in lines)
