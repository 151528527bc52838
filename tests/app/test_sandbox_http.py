"""Scripts of the running app reach nothing of it; where no sandbox can be made, it says so and runs none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.app.apikit import W, ensure_flow, flow_body, py_step, wait_status
from tests.app.server import PORTS, Server, ensure_frontend, free_port, start, stop

TOUCH = flow_body(
    "f/tests/sandbox_touch",
    [py_step("touch", "def main(path: str):\n    open(path, 'w').write('ran')\n    return 'ran'\n",
             path="flow_input.path")],
    {"path": {"type": "string"}},
)


@pytest.fixture
def unboxed_app(tmp_path: Path) -> Iterator[Server]:
    # Only the REST API is used: the session's frontend build (for the first port) will do.
    ensure_frontend(PORTS[0])
    server = start(free_port(), tmp_path, env={"MILLRACE_BWRAP": str(tmp_path / "no-bwrap-here")},
                   web_port=PORTS[0])
    try:
        yield server
    finally:
        stop(server)


def test_without_a_sandbox_the_app_says_so_and_no_script_runs(unboxed_app, tmp_path):
    marker = tmp_path / "ran"
    headers = {"Authorization": f"Bearer {unboxed_app.token}"}
    with httpx.Client(base_url=unboxed_app.url, headers=headers, timeout=60) as api:
        path = ensure_flow(api, TOUCH)
        run_id = api.post(f"{W}/jobs/run/f/{path}", json={"path": str(marker)}).text
        run = wait_status(api, run_id, {"success", "failure"})
        error = api.get(f"{W}/jobs_u/completed/get_result/{run_id}").json()
    assert run["status"] == "failure"
    assert error["error"]["name"] == "SandboxUnavailable", error
    assert "MILLRACE_SANDBOX=off" in error["error"]["message"]
    assert not marker.exists()
    assert "Millrace runs no scripts: user code is not run without a sandbox" in unboxed_app.log_tail(200)


PROBE = flow_body(
    "f/tests/sandbox_probe",
    [py_step("probe", '''
import os, signal

def main(app_pid: int, paths: list):
    seen = {"env": dict(os.environ), "environs": [], "files": [], "signalled": False}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                seen["environs"].append(open(f"/proc/{pid}/environ", "rb").read().decode(errors="replace"))
            except OSError:
                pass
    for path in paths:
        try:
            seen["files"].append([path, open(path, "rb").read(200).decode(errors="replace")])
        except OSError:
            pass
    try:
        os.kill(app_pid, signal.SIGKILL)
        seen["signalled"] = True
    except OSError:
        pass
    return seen
''', app_pid="flow_input.app_pid", paths="flow_input.paths")],
    {"app_pid": {"type": "integer"}, "paths": {"type": "array", "items": {"type": "string"}}},
)


def test_a_step_of_the_running_app_reaches_nothing_of_it(app_server, api):
    """What a hostile step tried against `make run`: the app's environment (directly and
    through /proc), its database, its secret key and source, killing it."""
    database = Path(app_server.db_url.removeprefix("sqlite:///"))
    paths = [str(database), str(database.parent / "secret.key"), str(Path(__file__).resolve()),
             str(Path(__file__).resolve().parents[2] / "app" / "app.py"), f"/proc/{app_server.process.pid}/environ"]
    assert database.exists()
    path = ensure_flow(api, PROBE)
    run_id = api.post(f"{W}/jobs/run/f/{path}", json={"app_pid": app_server.process.pid, "paths": paths}).text
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
    seen = api.get(f"{W}/jobs_u/completed/get_result/{run_id}").json()
    assert seen["files"] == [] and seen["signalled"] is False
    everything = repr(seen)
    for secret in (app_server.token, "millrace-test-password", "DATABASE_URL", "MILLRACE_TOKEN"):
        assert secret not in everything
    assert set(seen["env"]) >= {"WM_TOKEN", "WM_JOB_ID", "BASE_INTERNAL_URL"}
    assert api.get("/api/version").status_code == 200, "the app still serves"
