"""Webhooks over HTTP: start a run by path, wait for it, signed bodies, bad requests."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

from app.services.webhooks import signature
from tests.app.apikit import DOUBLE, W, ensure_flow, flow_body, py_step, wait_status

SLOW = flow_body("f/tests/hooks_slow", [py_step("nap", "import time\n\ndef main():\n    time.sleep(3)\n    return 'rested'\n")])
PREPROCESSED = {
    **flow_body("f/tests/hooks_pre", [py_step("echo", "def main(x: int):\n    return x\n", x="flow_input.x")],
                {"x": {"type": "integer"}}),
}
PREPROCESSED["value"]["preprocessor_module"] = py_step(
    "preprocessor", "def main(x: int):\n    return {'x': x + 100}\n", x="flow_input.x")
SIGNED = flow_body("f/tests/hooks_signed", [py_step("ok", "def main():\n    return 'ran'\n")])
SIGNED_REPLAY = flow_body("f/tests/hooks_replay", SIGNED["value"]["modules"])
SIGNED_STALE = flow_body("f/tests/hooks_stale", SIGNED["value"]["modules"])
SIGNED_SHELL = flow_body("f/tests/hooks_shell", SIGNED["value"]["modules"])


def test_run_returns_an_id_whose_status_and_result_can_be_read(api):
    path = ensure_flow(api, DOUBLE)
    response = api.post(f"{W}/jobs/run/f/{path}", json={"x": 4})
    assert response.status_code == 201, response.text
    run_id = response.text
    job = wait_status(api, run_id, {"success", "failure"})
    assert job["status"] == "success" and job["script_path"] == path
    assert api.get(f"{W}/jobs_u/completed/get_result_maybe/{run_id}").json()["result"] == {"doubled": 8}


def test_run_wait_result_answers_202_with_the_run_id_when_it_takes_too_long(api):
    path = ensure_flow(api, SLOW)
    response = api.post(f"{W}/jobs/run_wait_result/f/{path}", params={"timeout": 0.5}, json={})
    assert response.status_code == 202, response.text
    run_id = response.json()["run_id"]
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
    assert api.get(f"{W}/jobs_u/completed/get_result/{run_id}").json() == "rested"


def test_preprocessor_runs_for_a_webhook_started_run(api):
    path = ensure_flow(api, PREPROCESSED)
    response = api.post(f"{W}/jobs/run_wait_result/f/{path}", json={"x": 1})
    assert response.status_code == 200, response.text
    assert response.json() == 101


def test_bad_requests_are_refused_with_a_clear_message(api):
    path = ensure_flow(api, DOUBLE)
    malformed = api.post(f"{W}/jobs/run/f/{path}", content=b"{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and "not JSON" in malformed.text
    not_object = api.post(f"{W}/jobs/run/f/{path}", json=[1, 2])
    assert not_object.status_code == 400 and "JSON object" in not_object.text
    bad_args = api.post(f"{W}/jobs/run/f/{path}", json={"x": "many"})
    assert bad_args.status_code == 400 and "x" in bad_args.text
    unknown = api.post(f"{W}/jobs/run/f/f/tests/no_such_flow", json={})
    assert unknown.status_code == 404 and "not found" in unknown.text
    assert api.post(f"{W}/jobs/run/p/f/tests/no_such_script", json={}).status_code == 404
    assert api.post(f"{W}/jobs/run_wait_result/f/{path}", params={"timeout": "soon"}, json={"x": 1}).status_code == 400
    assert api.get(f"{W}/jobs_u/get/nope").status_code == 404


def _runs_of(app_server, path: str) -> int:
    with sqlite3.connect(app_server.db_url.removeprefix("sqlite:///")) as db:
        return db.execute("select count(*) from runs where path = ?", (path,)).fetchone()[0]


def _signed(secret: str, body: bytes, *, at: float | None = None, delivery: str | None = None) -> dict[str, str]:
    """The three headers of a signed webhook call, as the README tells senders to make them."""
    timestamp, delivery = str(int(time.time() if at is None else at)), delivery or uuid.uuid4().hex
    return {"X-Millrace-Timestamp": timestamp, "X-Millrace-Delivery": delivery,
            "X-Millrace-Signature": signature(secret, timestamp, delivery, body)}


def _with_secret(api, body: dict, secret: str) -> str:
    path = ensure_flow(api, body)
    assert api.post(f"{W}/flows/webhook_secret/{path}", json={"secret": secret}).json()["has_secret"] is True
    return path


def test_a_flow_with_a_secret_runs_only_with_a_valid_signature(api, app_server):
    path = _with_secret(api, SIGNED, "s3cret")
    before = _runs_of(app_server, path)
    body = json.dumps({}).encode()

    missing = api.post(f"{W}/jobs/run/f/{path}", content=body)
    assert missing.status_code == 401
    assert "missing header X-Millrace-Timestamp, X-Millrace-Delivery, X-Millrace-Signature" in missing.text
    wrong = api.post(f"{W}/jobs/run/f/{path}", content=body, headers=_signed("other", body))
    assert wrong.status_code == 401 and "signature does not match" in wrong.text
    other_body = api.post(f"{W}/jobs/run/f/{path}", content=b'{"x": 1}', headers=_signed("s3cret", body))
    assert other_body.status_code == 401 and "signature does not match" in other_body.text
    assert _runs_of(app_server, path) == before  # nothing ran

    signed = api.post(f"{W}/jobs/run_wait_result/f/{path}", content=body, headers=_signed("s3cret", body))
    assert signed.status_code == 200, signed.text
    assert signed.json() == "ran"

    assert api.post(f"{W}/flows/webhook_secret/{path}", json={"secret": None}).json()["has_secret"] is False
    assert api.post(f"{W}/jobs/run/f/{path}", content=body).status_code == 201


def test_a_replayed_delivery_is_refused_and_runs_nothing(api, app_server):
    path = _with_secret(api, SIGNED_REPLAY, "replay-secret")
    body = json.dumps({}).encode()
    headers = _signed("replay-secret", body)
    assert api.post(f"{W}/jobs/run/f/{path}", content=body, headers=headers).status_code == 201
    before = _runs_of(app_server, path)
    replayed = api.post(f"{W}/jobs/run/f/{path}", content=body, headers=headers)
    assert replayed.status_code == 401
    assert f"delivery '{headers['X-Millrace-Delivery']}' of flow {path} was received already" in replayed.text
    assert _runs_of(app_server, path) == before


def test_a_stale_or_future_timestamp_is_refused_and_runs_nothing(api, app_server):
    path = _with_secret(api, SIGNED_STALE, "stale-secret")
    body = json.dumps({}).encode()
    before = _runs_of(app_server, path)
    for offset in (-301 - 5, 301 + 5):
        late = api.post(f"{W}/jobs/run/f/{path}", content=body,
                        headers=_signed("stale-secret", body, at=time.time() + offset))
        assert late.status_code == 401 and "within 300 s" in late.text, late.text
    garbled = {**_signed("stale-secret", body), "X-Millrace-Timestamp": "yesterday"}
    assert "whole seconds, not 'yesterday'" in api.post(f"{W}/jobs/run/f/{path}", content=body, headers=garbled).text
    bad_id = _signed("stale-secret", body, delivery="has space")
    assert "X-Millrace-Delivery must be 1 to 128" in api.post(f"{W}/jobs/run/f/{path}", content=body,
                                                                 headers=bad_id).text
    assert _runs_of(app_server, path) == before
    near = api.post(f"{W}/jobs/run/f/{path}", content=body, headers=_signed("stale-secret", body, at=time.time() - 280))
    assert near.status_code == 201, near.text


def test_the_readme_shell_recipe_signs_a_webhook_the_app_accepts(api, app_server):
    path = _with_secret(api, SIGNED_SHELL, "shell-secret")
    script = _readme_recipe().replace("f/ops/deploy", path)
    env = {**os.environ, "SECRET": "shell-secret", "TOKEN": app_server.token, "MILLRACE_URL": app_server.url}
    done = subprocess.run(["bash", "-c", "set -eu\n" + script + "\n"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip()
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success", done.stdout


def _readme_recipe() -> str:
    """The shell block of the README's Webhooks section."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = text[text.index("### Webhooks"):]
    return section[section.index("```sh\n") + 6:section.index("\n```", section.index("```sh\n"))]
