"""REST details Windmill's tools rely on: locks on request (`generate-metadata`), a job's
progress, `whoami` for a run's token, the `token` cookie, and JSON for unknown paths."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from tests.app.apikit import W
from tests.app.server import Server
from tests.app.wmillcli import Wmill, read_yaml, wmill  # noqa: F401 (a fixture)

PROGRESS_STEP = '''
import wmill

def main():
    wmill.set_progress(42)
    return {"progress": wmill.get_progress(), "me": wmill.whoami()["username"]}
'''


def test_generate_metadata_gets_a_lock_and_a_schema(api: httpx.Client, wmill: Wmill, tmp_path: Path):
    folder = tmp_path / "sync"
    (folder / "f" / "gm").mkdir(parents=True)
    (folder / "f" / "gm" / "sum.py").write_text("import os\n\ndef main(a: int, b: str = 'x'):\n    return a\n")
    wmill("generate-metadata", "--yes", cwd=folder)
    meta = read_yaml(folder / "f" / "gm" / "sum.script.yaml")
    assert meta["lock"] == "" and meta["schema"]["required"] == ["a"]  # os is the standard library: no lock


def test_dependencies_async_answers_a_finished_job(api: httpx.Client):
    asked = api.post(f"{W}/jobs/run/dependencies_async", json={"raw_scripts": [
        {"raw_code": "def main():\n    return 1\n", "language": "python3", "script_path": "f/gm/one"}]})
    assert asked.status_code == 201, asked.text
    done = api.get(f"{W}/jobs_u/completed/get_result_maybe/{asked.text}").json()
    assert done == {"completed": True, "success": True, "result": {"lock": ""}, "started": True}
    bad = api.post(f"{W}/jobs/run/dependencies_async", json={"raw_scripts": "nope"})
    assert bad.status_code == 400 and "raw_scripts" in bad.text
    flow = api.post(f"{W}/jobs/run/flow_dependencies_async", json={"flow_value": {"modules": [
        {"id": "a", "value": {"type": "rawscript", "language": "python3", "content": "def main():\n    return 1\n",
                              "input_transforms": {}}}]}})
    result = api.get(f"{W}/jobs_u/completed/get_result_maybe/{flow.text}").json()["result"]
    assert result["updated_flow_value"]["modules"][0]["id"] == "a"


def test_a_step_sets_and_reads_its_progress_and_knows_who_it_acts_for(api: httpx.Client):
    path = f"f/tests/progress_{uuid.uuid4().hex[:6]}"
    made = api.post(f"{W}/scripts/create", json={"path": path, "language": "python3", "content": PROGRESS_STEP})
    assert made.status_code == 201, made.text
    ran = api.post(f"{W}/jobs/run_wait_result/p/{path}", json={})
    assert ran.status_code == 200, ran.text
    assert ran.json() == {"progress": 42, "me": "admin"}
    run_id = api.get(f"{W}/jobs/list", params={"script_path_exact": path}).json()[0]["id"]
    assert api.get(f"{W}/job_metrics/get_progress/{run_id}").json() == 42
    refused = api.post(f"{W}/job_metrics/set_progress/{run_id}", json={"percent": 250})
    assert refused.status_code == 400 and "0 to 100" in refused.text


def test_the_token_cookie_is_an_api_token_and_unknown_paths_answer_json(app_server: Server):
    whoami = f"{app_server.url}{W}/users/whoami"
    assert httpx.get(whoami, headers={"Cookie": f"a=b; token={app_server.token}"}).json()["username"] == "admin"
    assert httpx.get(whoami, headers={"Cookie": "token=not-a-token"}).status_code == 401
    unknown = httpx.get(f"{app_server.url}/api/no/such/thing")
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/json"
    assert "/api/no/such/thing" in unknown.json()["error"]
    assert httpx.post(f"{app_server.url}/api/workspaces/nope", json={}).status_code == 401  # still a token first


def test_items_show_their_times_in_iso_8601(api: httpx.Client):
    path = f"f/tests/when_{uuid.uuid4().hex[:6]}"
    assert api.post(f"{W}/variables/create", json={"path": path, "value": "v"}).status_code == 201
    assert api.post(f"{W}/scripts/create", json={"path": path, "language": "bash", "content": "echo hi\n"}).status_code == 201
    times = [api.get(f"{W}/variables/get/{path}").json()["created_at"],
             api.get(f"{W}/variables/list", params={"path_start": path}).json()[0]["updated_at"],
             api.get(f"{W}/scripts/get/p/{path}").json()["created_at"],
             api.get(f"{W}/flows/list").json()[0]["edited_at"]]
    assert all(isinstance(when, str) and when.startswith("20") and when.endswith("Z") for when in times), times
