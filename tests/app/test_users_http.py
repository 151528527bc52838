"""Users, roles, tokens and the audit log over REST, against the running app."""

from __future__ import annotations

import uuid

import httpx

from tests.app.apikit import DOUBLE, W, client, ensure_flow, flow_body, new_user, py_step, wait_status
from tests.app.server import ADMIN_PASSWORD


def _operator_token(api: httpx.Client) -> str:
    return new_user(api, "operator", "op")[1]


def test_operator_runs_a_flow_but_may_not_create_one(api: httpx.Client) -> None:
    path = ensure_flow(api, DOUBLE)
    with client(api, _operator_token(api)) as operator:
        assert operator.get("/api/users/whoami").json()["role"] == "operator"
        started = operator.post(f"{W}/jobs/run/f/{path}", json={"x": 4})
        assert started.status_code == 201, started.text
        assert wait_status(operator, started.text, {"success"})["result"] == {"doubled": 8}
        body = flow_body(f"f/tests/op_{uuid.uuid4().hex[:6]}", [py_step("a", "def main():\n    return 1\n")])
        refused = operator.post(f"{W}/flows/create", json=body)
        assert refused.status_code == 403 and "operator" in refused.text
        assert operator.post("/api/users/tokens/create", json={"label": "x"}).status_code == 403
        assert operator.post("/api/users/create", json={"username": "x", "password": "12345678"}).status_code == 403
        assert api.post(f"{W}/flows/create", json=body).status_code == 201


def test_requests_without_a_valid_token_get_401(api: httpx.Client) -> None:
    with client(api, "not-a-token") as stranger:
        assert stranger.get(f"{W}/flows/list").status_code == 401
        assert stranger.get("/api/users/whoami").status_code == 401
        assert stranger.post(f"{W}/jobs/run/f/{DOUBLE['path']}", json={"x": 1}).status_code == 401
    assert httpx.post(f"{api.base_url}/api/auth/login", json={"username": "admin", "password": "wrong"}
                      ).status_code == 401


def test_admin_logs_in_with_the_first_start_password(api: httpx.Client) -> None:
    token = httpx.post(f"{api.base_url}/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert token.status_code == 200
    with client(api, token.text) as admin:
        assert admin.get("/api/users/whoami").json() == {
            "username": "admin", "email": "admin@localhost", "is_admin": True, "role": "admin", "operator": False}
    names = {user["username"]: user["role"] for user in api.get(f"{W}/users/list").json()}
    assert names["admin"] == "admin"


def test_token_is_shown_once_listed_without_secret_and_deletable(api: httpx.Client) -> None:
    label = f"ci-{uuid.uuid4().hex[:6]}"
    created = api.post("/api/users/tokens/create", json={"label": label})
    assert created.status_code == 201
    token = created.text
    listed = [row for row in api.get("/api/users/tokens/list").json() if row["label"] == label]
    assert listed == [{"token_prefix": token[:10], "label": label, "owner": "admin",
                       "created_at": listed[0]["created_at"], "last_used_at": None, "expiration": None}]
    assert listed[0]["created_at"].endswith("Z")  # ISO 8601, as Windmill's CLI reads it
    assert token not in api.get("/api/users/tokens/list").text
    with client(api, token) as fresh:
        assert fresh.get(f"{W}/flows/list").status_code == 200
        assert api.delete(f"/api/users/tokens/delete/{token[:10]}").status_code == 200
        assert fresh.get(f"{W}/flows/list").status_code == 401


def test_audit_log_records_runs_flow_saves_and_tokens_newest_first(api: httpx.Client) -> None:
    path = f"f/tests/audited_{uuid.uuid4().hex[:6]}"
    assert api.post(f"{W}/flows/create", json=flow_body(path, [py_step("a", "def main():\n    return 1\n")])
                    ).status_code == 201
    run_id = api.post(f"{W}/jobs/run/f/{path}", json={}).text
    wait_status(api, run_id, {"success"})
    entries = api.get(f"{W}/audit/list").json()
    mine = [(e["operation"], e["resource"], e["username"]) for e in entries if e["resource"] == path]
    assert mine == [("run.started", path, "admin"), ("flow.saved", path, "admin")]
    run_entry = next(e for e in entries if e["operation"] == "run.started" and e["resource"] == path)
    assert run_entry["parameters"] == run_id
    stamps = [e["at"] for e in entries]
    assert stamps == sorted(stamps, reverse=True)
    only_runs = api.get(f"{W}/audit/list", params={"operation": "run.started"}).json()
    assert only_runs and {e["operation"] for e in only_runs} == {"run.started"}
