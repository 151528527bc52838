"""An app where no sandbox can be made says so at start and runs no script at all."""

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
