"""Scaled out: two app instances on one PostgreSQL and one Redis, runs on a worker process.

Instance A answers the REST API, instance B serves the browser; neither runs flows
(MILLRACE_WORKERS=0): one `python -m engine worker` process does. Steps finish in the
worker, their events reach B through PostgreSQL, and B's page state lives in Redis.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import expect

from engine import Store
from tests.app.apikit import W, ensure_flow, flow_body, py_step, wait_status
from tests.app.conftest import log_in, session_cookie
from tests.app.server import ADMIN_PASSWORD, ROOT, Server, ensure_frontend, free_port, start, stop
from tests.pg import fresh_database, pg_url, shared_cluster  # noqa: F401  (fixtures)
from tests.redis_server import running_redis

STEP_SECONDS = 0.4
LATER = ("s2", "s3", "s4", "s5")
"""The steps after the gate, each STEP_SECONDS long: a page refreshed in batches misses the test."""


def gate_step(key: str) -> dict[str, Any]:
    """A step that waits until the file named by the flow input `key` exists."""
    return py_step(key, "import os, time\n\ndef main(path: str):\n    while not os.path.exists(path):\n"
                        "        time.sleep(0.02)\n    return 'opened'\n", path=f"flow_input.{key}")


def timed_step(key: str) -> dict[str, Any]:
    return py_step(key, f"import time\n\ndef main():\n    time.sleep({STEP_SECONDS})\n    print('{key} says hello')\n"
                        f"    return '{key} done'\n")


GATED = flow_body("f/scale/gated", [gate_step("gate"), *map(timed_step, LATER)], {"gate": {"type": "string"}})
THREE_GATES = flow_body(
    "f/scale/three_gates",
    [gate_step("gate"), timed_step("s2"), gate_step("hold"), timed_step("s3"), gate_step("last"), timed_step("s4")],
    {"gate": {"type": "string"}, "hold": {"type": "string"}, "last": {"type": "string"}},
)
MARK = flow_body(
    "f/scale/mark",
    [py_step("mark", "import os\n\ndef main(marks: str):\n    with open(marks, 'a') as f:\n"
                     "        f.write(os.environ['WM_FLOW_JOB_ID'] + '\\n')\n", marks="flow_input.marks")],
    {"marks": {"type": "string"}},
)
# Records, in the page, when each step's row first shows "success" (ms since the epoch).
RECORD_SUCCESS = """(keys) => {
  window.__seen = {};
  const look = () => {
    for (const key of keys) {
      const badge = document.querySelector(`[data-step="${key}"] [data-status]`);
      if (!(key in window.__seen) && badge && badge.getAttribute('data-status') === 'success') {
        window.__seen[key] = Date.now();
      }
    }
  };
  new MutationObserver(look).observe(document.body, {subtree: true, childList: true, attributes: true,
                                                     characterData: true});
  look();
}"""


@dataclass
class Deployment:
    """Two app instances, a worker, PostgreSQL and Redis, as one test module sees them."""

    db_url: str
    env: dict[str, str]
    a: Server
    b: Server
    b_dir: Path
    worker: subprocess.Popen[bytes]

    def api(self, server: Server) -> httpx.Client:
        return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30)

    def kill_b(self) -> None:
        """kill -9 instance B and every process of its group."""
        os.killpg(self.b.process.pid, signal.SIGKILL)
        self.b.process.wait(10)

    def restart_b(self) -> None:
        port = int(self.b.url.rsplit(":", 1)[1])
        self.b = start(port, self.b_dir, db_url=self.db_url, env=self.env)


@pytest.fixture(scope="module")
def deployment(browser: Any, pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:  # noqa: F811
    # It asks for `browser` so that every test here sorts with the browser tests (see
    # conftest), and the deployment starts once for the module.
    workdir = tmp_path_factory.mktemp("scale")
    name, db_url = fresh_database("scale")
    with running_redis(workdir) as redis_url, contextlib.ExitStack() as stack:
        # One secret key everywhere, as the README asks: the worker's scripts call A back
        # with run tokens A must accept.
        env = {"REDIS_URL": redis_url, "MILLRACE_WORKERS": "0", "MILLRACE_SECRET_KEY": Fernet.generate_key().decode()}
        port_b = free_port()
        ensure_frontend(port_b)
        b_dir, a_dir = workdir / "b", workdir / "a"
        b_dir.mkdir(), a_dir.mkdir()
        b = start(port_b, b_dir, db_url=db_url, env=env)
        stack.callback(stop, b)
        # A is only called over REST: it serves B's bundle rather than build its own.
        a = start(free_port(), a_dir, db_url=db_url, env=env, web_port=port_b)
        stack.callback(stop, a)
        worker = start_worker(db_url, workdir, {"MILLRACE_SECRET_KEY": env["MILLRACE_SECRET_KEY"],
                                                "BASE_INTERNAL_URL": a.url})
        stack.callback(stop_worker, worker)
        deployment = Deployment(db_url, env, a, b, b_dir, worker)
        stack.callback(lambda: stop(deployment.b))  # B as restarted by a test
        yield deployment
    shared_cluster().drop_database(name)


def start_worker(db_url: str, workdir: Path, extra: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **extra}
    env.pop("DATABASE_URL", None)
    with open(workdir / "worker.log", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "engine", "worker", "--db", db_url, "--concurrency", "4",
                                 "--heartbeat", "1", "--stale-after", "10", "--grace", "2"],
                                cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)


@pytest.fixture
def page_on_b(browser: Any, deployment: Deployment) -> Iterator[Any]:
    """A page logged in on instance B (its URL resolved against B whichever port B has)."""
    url = deployment.b.url
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.add_cookies([session_cookie(url, log_in(url, "admin", ADMIN_PASSWORD))])
    page = context.new_page()
    yield page
    context.close()


def start_run(deployment: Deployment, body: dict[str, Any], args: dict[str, Any]) -> str:
    """Start a run through instance A's REST API; its id."""
    with deployment.api(deployment.a) as api:
        path = ensure_flow(api, body)
        response = api.post(f"{W}/jobs/run/f/{path}", json=args)
        assert response.status_code == 201, response.text
        return response.text


WMILL_CALLBACK = flow_body(
    "f/scale/wmill_callback",
    [py_step("read", "import wmill\n\ndef main():\n    value = wmill.get_variable('u/admin/scale_pw')\n"
                     "    return [value == 's3cret!', value, wmill.get_root_job_id()]\n")],
    {},
)


def test_a_step_on_a_worker_process_calls_the_app_back_with_its_run_token(deployment):
    with deployment.api(deployment.a) as api:
        created = api.post(f"{W}/variables/create", json={"path": "u/admin/scale_pw", "value": "s3cret!",
                                                          "is_secret": True})
        assert created.status_code in (200, 201), created.text
        path = ensure_flow(api, WMILL_CALLBACK)
        response = api.post(f"{W}/jobs/run/f/{path}", json={})
        run_id = response.text
        run = wait_status(api, run_id, {"success", "failure"})
    assert run["status"] == "success", run
    assert run["result"] == [True, "***", run_id]  # the step read the secret; it is served masked
    store = Store.open(deployment.db_url)
    try:
        assert store.get_run(run_id).worker_id.startswith("worker-")  # it ran on the worker process
    finally:
        store.close()


def step_badge(page: Any, key: str) -> Any:
    return page.locator(f'[data-step="{key}"] [data-status]')


def test_a_page_on_one_instance_follows_step_by_step_a_run_started_on_the_other(deployment, page_on_b, tmp_path):
    gate = tmp_path / "gate"
    run_id = start_run(deployment, GATED, {"gate": str(gate)})
    page_on_b.goto(f"/runs/{run_id}")
    expect(step_badge(page_on_b, "gate")).to_have_attribute("data-status", "running", timeout=30_000)
    page_on_b.evaluate(RECORD_SUCCESS, list(LATER))
    gate.touch()
    expect(step_badge(page_on_b, LATER[-1])).to_have_attribute("data-status", "success", timeout=30_000)
    seen = {key: ms / 1000 for key, ms in page_on_b.evaluate("window.__seen").items()}
    store = Store.open(deployment.db_url)
    try:
        steps = store.load_steps(run_id)
    finally:
        store.close()
    lags = {key: round(seen[key] - steps[key].finished_at, 3) for key in LATER}
    # Each step showed as finished before the next one finished: it came live, not in a batch.
    for key, following in zip(LATER, LATER[1:]):
        assert seen[key] < steps[following].finished_at, f"seconds from step end to page: {lags}"
    for key in LATER:
        expect(page_on_b.locator(f'[data-logs="{key}"]')).to_contain_text(f"{key} says hello")


def test_a_page_whose_instance_is_killed_mid_run_shows_the_whole_run_once_it_is_back(deployment, page_on_b, tmp_path):
    gates = {name: tmp_path / name for name in ("gate", "hold", "last")}
    run_id = start_run(deployment, THREE_GATES, {name: str(path) for name, path in gates.items()})
    page_on_b.goto(f"/runs/{run_id}")
    expect(step_badge(page_on_b, "gate")).to_have_attribute("data-status", "running", timeout=30_000)
    gates["gate"].touch()
    expect(step_badge(page_on_b, "s2")).to_have_attribute("data-status", "success")  # followed live
    deployment.kill_b()
    gates["hold"].touch()  # s3 runs in the worker while the page's instance is down
    wait_step_running(deployment.db_url, run_id, "last")
    deployment.restart_b()
    # Back: the page shows what happened while it was away...
    expect(step_badge(page_on_b, "s3")).to_have_attribute("data-status", "success", timeout=60_000)
    expect(page_on_b.locator('[data-logs="s3"]')).to_contain_text("s3 says hello")
    gates["last"].touch()
    # ...and follows the rest of the run live again.
    expect(step_badge(page_on_b, "s4")).to_have_attribute("data-status", "success")
    for key in ("gate", "s2", "hold", "s3", "last"):
        expect(step_badge(page_on_b, key)).to_have_attribute("data-status", "success")
    for key in ("s2", "s3", "s4"):
        expect(page_on_b.locator(f'[data-logs="{key}"]')).to_contain_text(f"{key} says hello")
    expect(page_on_b.locator("[data-status]").first).to_have_attribute("data-status", "success")
    expect(page_on_b.locator('[data-block="result"]')).to_contain_text("s4 done")


def wait_step_running(db_url: str, run_id: str, key: str, timeout: float = 30.0) -> None:
    store = Store.open(db_url)
    try:
        deadline = time.monotonic() + timeout
        while (step := store.load_step(run_id, key)) is None or step.status != "running":
            assert time.monotonic() < deadline, f"step {key} of run {run_id} did not start"
            time.sleep(0.1)
    finally:
        store.close()


def test_two_instances_fire_each_schedule_firing_exactly_once(deployment, tmp_path):
    marks = tmp_path / "marks"
    with deployment.api(deployment.a) as api:
        ensure_flow(api, MARK)
        body = {"path": "f/scale/every_second", "schedule": "* * * * * *", "timezone": "UTC",
                "script_path": MARK["path"], "is_flow": True, "args": {"marks": str(marks)}, "enabled": True}
        assert api.post(f"{W}/schedules/create", json=body).status_code == 201
        deadline = time.monotonic() + 60
        while len(lines(marks)) < 6:
            assert time.monotonic() < deadline, "the schedule did not fire 6 times in 60 s"
            time.sleep(0.2)
        assert api.post(f"{W}/schedules/setenabled/f/scale/every_second", json={"enabled": False}).status_code == 200
        runs = api.get(f"{W}/schedules/runs/f/scale/every_second", params={"per_page": 1000}).json()
        for run in runs:
            wait_status(api, run["id"], {"success", "failure"})
        runs = api.get(f"{W}/schedules/runs/f/scale/every_second", params={"per_page": 1000}).json()
    assert {run["status"] for run in runs} == {"success"}
    firings = [run["scheduled_for"] for run in runs]
    assert len(firings) == len(set(firings))  # one run per firing
    ran = lines(marks)
    assert sorted(ran) == sorted(run["id"] for run in runs)  # each run ran once


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []
