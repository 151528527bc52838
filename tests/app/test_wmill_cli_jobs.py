"""Windmill's own CLI running things and reading jobs: `flow run`, `script run`, `job ...`,
`folder ...`, `resource-type get`, `token list`."""

from __future__ import annotations

import json
import uuid

import httpx

from tests.app.apikit import APPROVAL, DOUBLE, W, ensure_flow, flow_body, py_step, wait_status
from tests.app.wmillcli import Wmill, wmill  # noqa: F401 (a fixture)

SCRIPT = 'def main(name: str = "world"):\n    print("greeting", name)\n    return {"greeting": "hello " + name}\n'


LOOP = flow_body("f/tests/cli_loop", [
    {"id": "each", "value": {"type": "forloopflow", "iterator": {"type": "javascript", "expr": "[1, 2]"},
                             "modules": [py_step("item", "def main(x):\n    print('item', x)\n    return x\n",
                                                 x="flow_input.iter.value")]}},
    py_step("total", "def main(xs: list):\n    return sum(xs)\n", xs="results.each"),
])


def _script(api: httpx.Client) -> str:
    path = f"f/clijobs/hello_{uuid.uuid4().hex[:6]}"
    made = api.post(f"{W}/scripts/create", json={"path": path, "language": "python3", "content": SCRIPT})
    assert made.status_code == 201, made.text
    return path


def test_flow_run_follows_each_step_and_prints_the_result(api: httpx.Client, wmill: Wmill):
    path = ensure_flow(api, DOUBLE)
    done = wmill("flow", "run", path, "-d", '{"x": 21}')
    out = done.stdout + done.stderr
    assert "====== double ======" in out and "doubling 21" in out  # the step's own log line
    assert "Flow ran to completion" in out and '"doubled": 42' in out
    silent = wmill("flow", "run", path, "-d", '{"x": 5}', "--silent")
    assert json.loads(silent.stdout.strip().splitlines()[-1]) == {"doubled": 10}


def test_flow_run_follows_each_loop_iteration(api: httpx.Client, wmill: Wmill):
    done = wmill("flow", "run", ensure_flow(api, LOOP), "-d", "{}")
    out = done.stdout + done.stderr
    assert "====== each (iteration 0) ======" in out and "====== each (iteration 1) ======" in out
    assert out.index("item 1") < out.index("item 2") < out.index("Flow ran to completion")
    assert out.strip().endswith("3")


def test_script_run_streams_its_logs_and_prints_the_result(api: httpx.Client, wmill: Wmill):
    path = _script(api)
    done = wmill("script", "run", path, "-d", '{"name": "cli"}')
    out = done.stdout + done.stderr
    assert "greeting cli" in out and '"greeting": "hello cli"' in out
    failed = wmill("script", "run", f"{path}_missing", "-d", "{}", check=False)
    assert failed.returncode != 0 and "not found" in failed.stdout + failed.stderr


def test_job_list_get_and_logs_show_runs_with_real_dates(api: httpx.Client, wmill: Wmill):
    path = _script(api)
    run_id = api.post(f"{W}/jobs/run/p/{path}", json={"name": "jobs"}).text
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
    listed = json.loads(wmill("job", "list", "--json", "--limit", "100").stdout)
    mine = next(job for job in listed if job["id"] == run_id)
    assert mine["script_path"] == path and mine["success"] is True
    assert mine["created_at"].startswith("20") and mine["created_at"].endswith("Z")  # ISO 8601, not epoch seconds
    assert "greeting jobs" in wmill("job", "logs", run_id).stdout
    shown = wmill("job", "get", run_id)
    assert "hello jobs" in shown.stdout and "1970" not in shown.stdout


def test_job_cancel_ends_a_waiting_run_and_refuses_a_finished_one(api: httpx.Client, wmill: Wmill):
    path = ensure_flow(api, APPROVAL)
    run_id = api.post(f"{W}/jobs/run/f/{path}", json={}).text
    assert wait_status(api, run_id, {"suspended", "failure"})["status"] == "suspended"
    wmill("job", "cancel", run_id)
    job = api.get(f"{W}/jobs_u/get/{run_id}").json()
    assert job["status"] == "canceled" and job["canceled"] is True and job["type"] == "CompletedJob"
    again = wmill("job", "cancel", run_id, check=False)
    assert again.returncode != 0 and "only a queued, running or suspended run can be canceled" in again.stdout + again.stderr


def test_folders_made_with_the_cli_are_listed_and_shown(api: httpx.Client, wmill: Wmill):
    name = f"clifolder{uuid.uuid4().hex[:6]}"
    wmill("folder", "new", name, "--summary", "made by wmill")
    wmill("folder", "push", name)
    listed = json.loads(wmill("folder", "list", "--json").stdout)
    assert name in [folder["name"] for folder in listed]
    assert api.get(f"{W}/folders/get/{name}").json()["summary"] == "made by wmill"
    assert "made by wmill" in wmill("folder", "get", name).stdout
    assert api.delete(f"{W}/folders/delete/{name}").status_code == 200
    assert api.get(f"{W}/folders/get/{name}").status_code == 404


def test_resource_type_get_and_token_list(api: httpx.Client, wmill: Wmill):
    kind = f"clitype{uuid.uuid4().hex[:6]}"
    made = api.post(f"{W}/resources/type/create", json={"name": kind, "description": "typed",
                                                       "schema": {"type": "object", "properties": {"n": {}}}})
    assert made.status_code == 201, made.text
    assert '"n"' in wmill("resource-type", "get", kind).stdout
    tokens = wmill("token", "list")
    assert "Invalid time value" not in tokens.stdout + tokens.stderr and "never" in tokens.stdout


def test_job_rerun_and_restart_start_new_runs(api: httpx.Client, wmill: Wmill):
    path = ensure_flow(api, DOUBLE)
    first = api.post(f"{W}/jobs/run/f/{path}", json={"x": 4}).text
    assert wait_status(api, first, {"success", "failure"})["status"] == "success"
    again = wmill("job", "rerun", first).stdout.strip().splitlines()[-1]
    assert again != first and wait_status(api, again, {"success", "failure"})["result"] == {"doubled": 8}
    restarted = wmill("job", "restart", first, "--step", "double").stdout.strip().splitlines()[-1]
    assert wait_status(api, restarted, {"success", "failure"})["result"] == {"doubled": 8}
    wrong = wmill("job", "restart", first, "--step", "nope", check=False)
    assert wrong.returncode != 0 and "choose one of: double" in wrong.stdout + wrong.stderr
