"""Pages and REST keep answering whatever flows do.

Flows run on the engine's own thread and web handlers reach the store off the web
loop (app/services/engine_host.py, app/services/offloop.py), so a flow that keeps the engine busy does
not hold up the web server (nor does PostgreSQL away: tests/app/test_faults_http.py).
The bound is generous (the machine is shared): what is checked is that answers come
at all while the flow runs, not how fast (bench/liveness.py measures that).
"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.app.apikit import W, ensure_flow, flow_body, timed, wait_status
from tests.app.eventsocket import EventSocket

BOUND = 2.0
"""Seconds within which every answer must come."""
ITERATIONS = 100_000
"""Identity steps of the busy flow: many seconds of the engine's CPU, and no process started."""
BUSY = flow_body("f/tests/busy_loop", [
    {"id": "loop", "value": {"type": "forloopflow", "iterator": {"type": "javascript", "expr": "flow_input.items"},
                             "modules": [{"id": "same", "value": {"type": "identity"}}]}}],
    {"items": {"type": "array"}})


def version_answers(url: str) -> bool:
    return httpx.get(f"{url}/api/version", timeout=BOUND * 2).status_code == 200


def test_pages_and_rest_answer_while_a_long_cpu_bound_flow_runs(app_server, api, admin_session):
    path = ensure_flow(api, BUSY)
    run_id = api.post(f"{W}/jobs/run/f/{path}", json={"items": list(range(ITERATIONS))}).text
    with httpx.Client(base_url=app_server.url, headers=api.headers, timeout=BOUND) as impatient:
        try:
            assert wait_status(impatient, run_id, {"running", "success", "failure"})["status"] == "running"
            times: dict[str, list[float]] = {"version": [], "event": []}
            with EventSocket(app_server.url, session=admin_session) as socket:
                until = time.monotonic() + 3.0
                while time.monotonic() < until:
                    times["version"].append(timed(lambda: version_answers(app_server.url), BOUND * 2))
                    times["event"].append(timed(lambda: socket.round_trip(BOUND * 2), BOUND * 2))
            status = impatient.get(f"{W}/jobs_u/get/{run_id}").json()["status"]
        except httpx.TimeoutException:
            pytest.fail(f"the app did not answer within {BOUND:g} s while the flow ran")
    assert status == "running", "the flow ended before the answers were timed: give it more iterations"
    assert max(times["version"]) < BOUND and max(times["event"]) < BOUND, times
    assert wait_status(api, run_id, {"success", "failure"}, timeout=300)["status"] == "success"
