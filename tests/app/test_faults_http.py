"""The app served on PostgreSQL keeps serving through a restart of its database.

The server runs on a PostgreSQL server of this module's own (see tests/pg.py), which
the test stops and starts while runs are in flight in the app's in-process worker.
Only the REST API is used, so whatever frontend build exists will do (one is made
when there is none).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.app.apikit import W, ensure_flow, flow_body, py_step, wait_status
from tests.app.server import PORTS, Server, ensure_frontend, free_port, start, stop
from tests.pg import Cluster, own_cluster

SLOW_DOUBLE = flow_body(
    "f/tests/slow_double",
    [py_step("double", "import time\ndef main(x: int):\n    time.sleep(0.8)\n    return x * 2\n", x="flow_input.x")],
    {"x": {"type": "integer"}},
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with own_cluster() as server:
        yield server


@pytest.fixture
def pg_app(cluster: Cluster, tmp_path: Path) -> Iterator[Server]:
    # The server mounts a build; for the API the session's (built for the first port) will do.
    ensure_frontend(PORTS[0])
    server = start(free_port(), tmp_path, db_url=cluster.create_database(f"app_faults_{uuid.uuid4().hex[:8]}"), web_port=PORTS[0])
    try:
        yield server
    finally:
        stop(server)


def test_the_app_keeps_serving_runs_through_a_postgres_restart(cluster, pg_app):
    headers = {"Authorization": f"Bearer {pg_app.token}"}
    with httpx.Client(base_url=pg_app.url, headers=headers, timeout=60) as api:
        path = ensure_flow(api, SLOW_DOUBLE)
        in_flight = {api.post(f"{W}/jobs/run/f/{path}", json={"x": x}).text: x for x in range(4)}
        first = next(iter(in_flight))
        assert wait_status(api, first, {"running", "success", "failure"})["status"] == "running"

        cluster.stop_server("fast")
        time.sleep(1.5)
        cluster.start_server()

        assert pg_app.process.poll() is None, pg_app.log_tail()
        for run_id, x in in_flight.items():
            assert wait_status(api, run_id, {"success", "failure"}, timeout=60)["status"] == "success"
            assert api.get(f"{W}/jobs_u/completed/get_result/{run_id}").json() == x * 2
        response = api.post(f"{W}/jobs/run_wait_result/f/{path}", json={"x": 21})
        assert (response.status_code, response.json()) == (200, 42)
        assert api.get("/api/ready").status_code == 200


def test_a_request_made_while_postgres_restarts_waits_for_it_instead_of_failing(cluster, pg_app):
    # The token check reads the app's tables: through the store, retried as every store call.
    headers = {"Authorization": f"Bearer {pg_app.token}"}
    with httpx.Client(base_url=pg_app.url, headers=headers, timeout=60) as api:
        assert api.get("/api/users/whoami").status_code == 200
        cluster.stop_server("fast")
        answers: list[httpx.Response] = []
        asking = threading.Thread(target=lambda: answers.append(api.get("/api/users/whoami")))
        asking.start()
        time.sleep(1.5)
        cluster.start_server()
        asking.join(60)
        assert [(r.status_code, r.json()["username"]) for r in answers] == [(200, "admin")], pg_app.log_tail()
