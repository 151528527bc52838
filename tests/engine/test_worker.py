"""`python -m engine worker` processes sharing a real PostgreSQL queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Engine, Store
from tests.flowkit import counter_code, flow, py
from tests.pg import fresh_database, pg_url, shared_cluster  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
FAST = ("--heartbeat", "0.5", "--stale-after", "2")


@pytest.fixture
def db_url(pg_url: str) -> Iterator[str]:  # noqa: F811
    name, url = fresh_database("worker")
    yield url
    shared_cluster().drop_database(name)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()


def start_worker(workers: list, db_url: str, tmp_path: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "engine", "worker", "--db", db_url, *FAST, *args],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    workers.append(proc)
    return proc


def submit(db_url: str, document: dict, count: int = 1) -> list[str]:
    engine = Engine(store=Store.open(db_url))
    try:
        return [engine.submit(document) for _ in range(count)]
    finally:
        engine.store.close()


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def statuses(db_url: str, ids: list[str]) -> list[str]:
    store = Store.open(db_url)
    try:
        return [store.get_run(run_id).status for run_id in ids]
    finally:
        store.close()


def lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def slow_once(marks: Path, name: str, seconds: float) -> str:
    """Python that records each start, and sleeps `seconds` the first time only."""
    return (
        "import os, time\n"
        "def main():\n"
        f"    open({str(marks / name)!r}, 'a').write('x\\n')\n"
        f"    if not os.path.exists({str(marks / 'flag')!r}):\n"
        f"        open({str(marks / 'flag')!r}, 'w').close()\n"
        f"        time.sleep({seconds})\n"
        f"    return {name!r}\n"
    )


def test_two_workers_finish_every_run_exactly_once(db_url, tmp_path, workers):
    marks = tmp_path / "marks"
    marks.mkdir()
    step = "import uuid\ndef main():\n    open(f'{DIR}/' + uuid.uuid4().hex, 'w').close()\n    return 1\n"
    document = flow(py("a", step.replace("{DIR}", str(marks))), py("b", "def main(x=None):\n    return 2\n"))
    ids = submit(db_url, document, count=8)
    pair = [start_worker(workers, db_url, tmp_path, "--concurrency", "2") for _ in range(2)]
    wait_for(lambda: statuses(db_url, ids) == ["success"] * 8)
    assert len(list(marks.iterdir())) == 8
    for proc in pair:
        proc.send_signal(signal.SIGTERM)
    assert [proc.wait(timeout=15) for proc in pair] == [0, 0]


def test_a_killed_workers_run_is_taken_over_without_rerunning_finished_steps(db_url, tmp_path, workers):
    marks = tmp_path / "marks"
    marks.mkdir()
    document = flow(py("a", counter_code(str(marks / "a"))), py("b", slow_once(marks, "b", 60)),
                    py("c", counter_code(str(marks / "c"))))
    [run_id] = submit(db_url, document)
    doomed = start_worker(workers, db_url, tmp_path)
    wait_for(lambda: (marks / "flag").exists())
    start_worker(workers, db_url, tmp_path)
    os.killpg(doomed.pid, signal.SIGKILL)
    wait_for(lambda: statuses(db_url, [run_id]) == ["success"])
    assert (lines(marks / "a"), lines(marks / "b"), lines(marks / "c")) == (1, 2, 1)


def test_sigterm_lets_a_held_run_finish_then_exits_0(db_url, tmp_path, workers):
    marks = tmp_path / "marks"
    marks.mkdir()
    [run_id] = submit(db_url, flow(py("b", slow_once(marks, "b", 1.5))))
    proc = start_worker(workers, db_url, tmp_path, "--grace", "20")
    wait_for(lambda: (marks / "flag").exists())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    assert statuses(db_url, [run_id]) == ["success"]
    assert lines(marks / "b") == 1


def test_sigterm_hands_back_what_outlasts_the_grace_period(db_url, tmp_path, workers):
    marks = tmp_path / "marks"
    marks.mkdir()
    [run_id] = submit(db_url, flow(py("b", slow_once(marks, "b", 60))))
    proc = start_worker(workers, db_url, tmp_path, "--grace", "0.5")
    wait_for(lambda: (marks / "flag").exists())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    assert statuses(db_url, [run_id]) == ["queued"]
    start_worker(workers, db_url, tmp_path)
    wait_for(lambda: statuses(db_url, [run_id]) == ["success"])
    assert lines(marks / "b") == 2
