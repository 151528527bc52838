"""Faults, with real worker processes on a real PostgreSQL: the database restarting
under running workers, steps that crash their process, a worker that stalls past its
stale timeout while others race it for the same runs.

Every step execution is traced from inside the step (one O_APPEND line at its start and
one at its end, with the run, step and pid), so the tests check what ran, how often
and whether two executions of a step ever overlapped, not only what the store says.
The module runs its own PostgreSQL server (durable commits, so that even a `-m
immediate` stop keeps every acknowledged write), which the tests stop and start.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sqlalchemy.exc import OperationalError

from engine import Engine, Scheduler, Store
from engine.store.db import Database, resolve_url
from engine.store.retry import is_transient, retrying_for
from engine.worker import QueueWorker
from tests.engine.runnerkit import none_left
from tests.flowkit import flow, py
from tests.pg import Cluster, own_cluster

ROOT = Path(__file__).resolve().parents[2]
FAST = ("--heartbeat", "0.5", "--stale-after", "2")
SCHEMA = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}
TRACED_STEP = """
import os, time, uuid

EXECUTION = uuid.uuid4().hex  # module state is fresh in every job

def mark(what):
    fd = os.open(TRACE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{what} {os.environ['WM_JOB_ID']} {EXECUTION} {time.time():.6f}\\n".encode())
    finally:
        os.close(fd)

def main(x: int, pause: float = 0.0):
    mark("start")
    time.sleep(pause)
    mark("end")
    return x + 1
"""
_restarts: list[threading.Thread] = []
"""Restarts under way, which a test's teardown waits for before it cleans up."""
FINISHED = re.compile(r"worker (\S+): run (\S+) (success|failure|suspended)$", re.M)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A PostgreSQL server of this module's own, which its tests may stop and start."""
    with own_cluster() as server:
        yield server


@pytest.fixture
def db_url(cluster: Cluster) -> Iterator[str]:
    name = f"faults_{uuid.uuid4().hex[:12]}"
    url = cluster.create_database(name)
    yield url
    for restart in _restarts:
        restart.join()
    _restarts.clear()
    if not (cluster.data / "postmaster.pid").exists():
        cluster.start_server()  # a test that failed while the server was down
    cluster.drop_database(name)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """The test's own connection to the database, for submitting and checking runs."""
    with Store.open(db_url) as opened:
        yield opened


@dataclass
class Worker:
    """A `python -m engine worker` process and the file its log goes to."""

    proc: subprocess.Popen
    log: Path

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def worker_id(self) -> str:
        found = re.search(r"worker (\S+) started", self.text())
        return found.group(1) if found else ""


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        if worker.alive:
            os.killpg(worker.proc.pid, signal.SIGKILL)
        worker.proc.wait()


def start_worker(workers: list[Worker], db_url: str, tmp_path: Path, *args: str, **env: str) -> Worker:
    log = tmp_path / f"worker{len(workers)}.log"
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    environ.pop("DATABASE_URL", None)
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "engine", "worker", "--db", db_url, *FAST, *args],
                                cwd=tmp_path, env=environ, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    worker = Worker(proc, log)
    workers.append(worker)
    return worker


def traced_flow(trace: Path, pause_a: float, pause_b: float) -> dict:
    """Two traced steps: a returns x + 1, b returns a's result + 1."""
    code = TRACED_STEP.replace("TRACE", repr(str(trace)))
    return flow(py("a", code, x="js:flow_input.x", pause=pause_a), py("b", code, x="js:results.a", pause=pause_b),
                schema=SCHEMA)


def submit(store: Store, document: dict, xs: list[int]) -> dict[str, int]:
    """Queue one run per x; returns {run id: x}."""
    engine = Engine(store=store)
    return {engine.submit(document, {"x": x}): x for x in xs}


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@dataclass
class Execution:
    """One execution of a step, as the step itself traced it."""

    job: str
    execution: str
    start: float
    end: float | None = None


@dataclass
class Trace:
    """What a trace file says: executions by job ("run:step")."""

    jobs: dict[str, list[Execution]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> "Trace":
        trace, running = cls(), {}
        text = path.read_text() if path.exists() else ""
        for line in text.split("\n")[:-1]:  # the last one is empty, or still being written
            what, job, execution_id, ts = line.split()
            if what == "start":
                execution = Execution(job, execution_id, float(ts))
                trace.jobs.setdefault(job, []).append(execution)
                running[execution_id] = execution
            else:
                running.pop(execution_id).end = float(ts)
        return trace

    def started(self) -> int:
        return sum(len(runs) for runs in self.jobs.values())

    def repeated(self) -> dict[str, int]:
        """Jobs executed more than once, with how many times."""
        return {job: len(runs) for job, runs in self.jobs.items() if len(runs) > 1}

    def assert_never_concurrent(self) -> None:
        for job, runs in self.jobs.items():
            runs = sorted(runs, key=lambda run: run.start)
            for first, second in zip(runs, runs[1:]):
                assert first.end is not None and first.end <= second.start, f"{job} ran twice at once: {runs}"


def finishes(workers: list[Worker]) -> Counter:
    """How many times the workers' logs say each run ended."""
    return Counter(match.group(2) for worker in workers for match in FINISHED.finditer(worker.text()))


def assert_every_run_done_right(store: Store, runs: dict[str, int], *, nothing_else: bool = True) -> None:
    """Each run succeeded with x + 2, its journal holds a and b, finished; and (unless
    told otherwise) no run at all is left queued or running."""
    for run_id, x in runs.items():
        run = store.get_run(run_id)
        assert (run.status, run.result) == ("success", x + 2), (run_id, run.status, run.error)
        steps = store.load_steps(run_id)
        assert sorted(steps) == ["a", "b"]
        assert [(s.status, s.result) for s in steps.values()] == [("success", x + 1), ("success", x + 2)]
    if nothing_else:
        left = store.list_runs(status=["running", "queued"], limit=10)
        assert not left, [(run.id, run.kind, run.status, run.path, run.args) for run in left]


def restart_later(cluster: Cluster, mode: str, down_for: float) -> threading.Thread:
    """Stop the server now (in a thread) and start it again `down_for` seconds later."""

    def restart() -> None:
        cluster.stop_server(mode)
        time.sleep(down_for)
        cluster.start_server()

    thread = threading.Thread(target=restart, name="pg-restart")
    thread.start()
    _restarts.append(thread)
    return thread


def test_a_store_call_gives_up_after_its_retry_time_and_later_ones_fail_fast_until_it_is_back(cluster, db_url):
    with Store(Database(resolve_url(db_url), retry_for=0.5)) as store:
        store.migrate()
        assert store.get_run("nothing") is None
        cluster.stop_server("fast")
        try:
            started = time.monotonic()
            with pytest.raises(OperationalError) as first:
                store.get_run("nothing")
            assert 0.3 < time.monotonic() - started < 5 and is_transient(first.value)
            started = time.monotonic()
            with pytest.raises(OperationalError):
                store.get_run("nothing")
            assert time.monotonic() - started < 0.3  # one try: it gave up already
        finally:
            cluster.start_server()
        assert store.get_run("nothing") is None
        assert not store.db.gave_up


def test_a_call_narrowed_to_a_short_retry_gives_up_in_its_time_and_leaves_the_others_their_own(cluster, db_url):
    with Store(Database(resolve_url(db_url), retry_for=30)) as store:
        store.migrate()
        cluster.stop_server("fast")
        try:
            started = time.monotonic()
            with pytest.raises(OperationalError), retrying_for(0.5):
                store.get_run("nothing")  # a web page's call: it may not wait long
            assert 0.3 < time.monotonic() - started < 5
            assert not store.db.gave_up  # the engine's own calls still wait their 30 s
        finally:
            restart = threading.Timer(1.0, cluster.start_server)
            restart.start()
        assert store.get_run("nothing") is None  # waited for the database to come back
        restart.join()


def test_workers_ride_out_a_postgres_crash_and_restart_and_every_step_runs_once(cluster, store, db_url, tmp_path, workers):
    trace = tmp_path / "trace"
    runs = submit(store, traced_flow(trace, 0.6, 0.4), [10 * i for i in range(12)])
    for _ in range(3):
        start_worker(workers, db_url, tmp_path, "--concurrency", "2")
    wait_for(lambda: Trace.read(trace).started() >= 4, what="steps in flight")
    restart_later(cluster, "immediate", down_for=1.5).join()  # as after a crash: no shutdown
    wait_for(lambda: store.count_runs(status="success") == len(runs), timeout=60, what="every run to succeed")

    assert all(worker.alive for worker in workers)
    assert_every_run_done_right(store, runs)
    executions = Trace.read(trace)
    assert executions.repeated() == {}  # a step finished while the database was away is recorded, not re-run
    assert len(executions.jobs) == 2 * len(runs)
    assert finishes(workers) == Counter(dict.fromkeys(runs, 1))
    assert any("database unavailable" in worker.text() for worker in workers)


def test_runs_cut_off_by_a_long_outage_continue_from_their_journal(cluster, store, db_url, tmp_path, workers):
    trace = tmp_path / "trace"
    runs = submit(store, traced_flow(trace, 0.8, 0.3), [10 * i for i in range(6)])
    for _ in range(2):
        start_worker(workers, db_url, tmp_path, "--concurrency", "3", MILLRACE_DB_RETRY_SECONDS="0.3")
    wait_for(lambda: Trace.read(trace).started() >= 4, what="steps in flight")
    restart_later(cluster, "fast", down_for=2.0).join()
    wait_for(lambda: store.count_runs(status="success") == len(runs), timeout=60, what="every run to succeed")

    assert all(worker.alive for worker in workers)
    assert_every_run_done_right(store, runs)
    logs = "".join(worker.text() for worker in workers)
    assert "will be continued from its journal" in logs
    executions = Trace.read(trace)
    executions.assert_never_concurrent()
    # Only a step whose record could not be saved runs again, and only once more.
    assert set(executions.repeated().values()) <= {2}
    assert executions.repeated(), "the outage outlasted the store's retries: some step must have run again"
    assert finishes(workers) == Counter(dict.fromkeys(runs, 1))


def test_an_in_process_worker_and_scheduler_ride_out_a_postgres_restart(cluster, store, db_url, tmp_path):
    trace = tmp_path / "trace"
    store.save_flow("f/t/tick", flow(py("a", "def main():\n    return 1\n")))
    runs, back = asyncio.run(_serve_through_a_restart(cluster, db_url, trace))

    assert_every_run_done_right(store, runs, nothing_else=False)  # the schedule kept firing
    assert Trace.read(trace).repeated() == {}
    fired = sorted(run.scheduled_for for run in store.schedule_runs("f/t/every_second", limit=1000))
    # One run per second, none missing (those due while the database was away came after), none twice.
    assert fired == [fired[0] + n for n in range(len(fired))]
    assert fired[-1] > back


async def _serve_through_a_restart(cluster: Cluster, db_url: str, trace: Path) -> tuple[dict[str, int], float]:
    """Serve a QueueWorker and a Scheduler in this event loop while the database restarts.

    Returns the traced runs ({id: x}) and when the database was back.
    """
    document = traced_flow(trace, 0.5, 0.3)
    engine = Engine(store=Store.open(db_url))
    scheduler = Scheduler(engine)
    scheduler.save("f/t/every_second", schedule="* * * * * *", script_path="f/t/tick")
    worker = QueueWorker(engine, concurrency=3, heartbeat=0.5, stale_after=2, poll=0.1)
    serving = asyncio.create_task(worker.serve())
    scheduling = asyncio.create_task(scheduler.serve(interval=0.2, on_submit=lambda _: worker.wake()))

    async def until(condition: Callable[[], bool]) -> None:
        while not condition():
            assert not serving.done() and not scheduling.done()
            await asyncio.sleep(0.05)

    try:
        runs = {engine.submit(document, {"x": x}): x for x in range(0, 60, 10)}
        await until(lambda: Trace.read(trace).started() >= 2)
        restart = restart_later(cluster, "fast", down_for=1.5)
        await until(lambda: not restart.is_alive())  # the loop stands still while the store waits
        back = time.time()
        await until(lambda: engine.store.count_runs(path="", status="success") == len(runs)
                    and _latest_firing(engine.store) > back + 1)
        worker.stop()
        await asyncio.wait_for(serving, 15)
        return runs, back
    finally:
        scheduling.cancel()
        await engine.close()
        engine.store.close()


def _latest_firing(store: Store) -> float:
    runs = store.schedule_runs("f/t/every_second", limit=1)
    return runs[0].scheduled_for if runs else 0.0


POISONS = {
    "kill": ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "ScriptCrashed", "killed by SIGKILL"),
    "exit": ("import os\nos._exit(3)", "ScriptCrashed", "exited with code 3"),
    "segfault": ("import ctypes\nctypes.string_at(0)", "ScriptCrashed", "killed by SIGSEGV"),
    "signals": ("import os, signal\nfor pid in (1, os.getppid()):\n    os.kill(pid, signal.SIGKILL)\n"
                "os.kill(os.getpid(), signal.SIGKILL)", "ScriptCrashed", "before main returned"),
    "memory": ("blocks = []\nwhile True:\n    blocks.append(bytearray(32 * 2**20))", "MemoryError", ""),
}


def poison_flow(trace: Path, body: str, seconds: float) -> dict:
    """One traced step, `crash`, that runs `body`, retried twice `seconds` apart."""
    code = TRACED_STEP.replace("TRACE", repr(str(trace))).replace(
        '    mark("start")\n', '    mark("start")\n' + "".join(f"    {line}\n" for line in body.splitlines()))
    step = py("crash", code, x="js:flow_input.x")
    step["retry"] = {"constant": {"attempts": 2, "seconds": seconds}}
    return flow(step, schema=SCHEMA)


SPAWN = """
import subprocess

def main():
    subprocess.Popen(["sleep", "60.8101"])
    subprocess.Popen(["sleep", "60.8102"], start_new_session=True)
    return "spawned"
"""


def test_steps_that_crash_their_process_fail_their_run_and_the_worker_keeps_serving(store, db_url, tmp_path, workers):
    trace = tmp_path / "trace"
    normal = traced_flow(trace, 0.05, 0.05)
    spawner = submit(store, flow(py("spawn", SPAWN), schema=SCHEMA), [0])
    before = submit(store, normal, [1, 2])
    slow = submit(store, poison_flow(trace, POISONS["kill"][0], seconds=3.0), [100])
    after = submit(store, normal, [3, 4])
    # A script sees only its own namespace: signalling every process it can see (its
    # namespace's init, its parent) ends nobody else's script, so all go at once.
    poisons = {kind: submit(store, poison_flow(trace, body, seconds=0.2), [200]) for kind, (body, *_) in POISONS.items()}
    worker = start_worker(workers, db_url, tmp_path, "--concurrency", "3", MILLRACE_SCRIPT_MEMORY_MB="256")
    wait_for(lambda: store.count_runs(status="failure") == len(POISONS) + 1, timeout=60,
             what="the poison runs to fail")
    later = submit(store, normal, [5])
    wait_for(lambda: store.count_runs(status="success") == 6, timeout=30, what="a run after the poisons")

    assert worker.alive
    assert_every_run_done_right(store, {**before, **after, **later})
    executions = Trace.read(trace)
    for kind, (_, name, words) in {"slow": POISONS["kill"], **POISONS}.items():
        [run_id] = slow if kind == "slow" else poisons[kind]
        run = store.get_run(run_id)
        assert run.status == "failure"
        assert (run.error["step_id"], run.error["name"]) == ("crash", name), (kind, run.error)
        assert words in run.error["message"], (kind, run.error)
        assert store.load_steps(run_id)["crash"].attempts == 2
        assert len(executions.jobs[f"{run_id}:crash"]) == 3  # the first try and two retries
    # The normal runs, also those queued after the poison, finished while it retried.
    last_normal = max(store.get_run(run_id).finished_at for run_id in {**before, **after})
    assert last_normal < store.get_run(next(iter(slow))).finished_at
    assert "crashed the engine" not in worker.text()
    # What a script starts ends with it, in a new session too.
    [spawned] = spawner
    assert store.get_run(spawned).status == "success"
    assert none_left("60.8101") and none_left("60.8102"), "the script's children outlived it"


def test_a_stalled_worker_stops_the_runs_it_lost_and_no_step_runs_twice_at_once(store, db_url, tmp_path, workers):
    trace = tmp_path / "trace"
    runs = submit(store, traced_flow(trace, 0.05, 0.05), list(range(200)))
    trio = [start_worker(workers, db_url, tmp_path, "--concurrency", "4") for _ in range(3)]
    wait_for(lambda: all(worker.worker_id() for worker in trio), what="the workers to start")
    by_id = {worker.worker_id(): worker for worker in trio}

    def busiest() -> str | None:
        held = Counter(run.worker_id for run in store.list_runs(status="running", limit=1000))
        worker_id, count = max(held.items(), key=lambda item: item[1], default=(None, 0))
        return worker_id if count >= 2 else None

    wait_for(lambda: busiest() is not None, what="a worker holding runs")
    victim = by_id[busiest()]
    os.kill(victim.proc.pid, signal.SIGSTOP)  # the worker's process only: its scripts go on
    lost = {run.id for run in store.list_runs(status="running", limit=1000) if run.worker_id == victim.worker_id()}
    time.sleep(3.5)  # past --stale-after 2: the others take its runs over
    os.kill(victim.proc.pid, signal.SIGCONT)
    wait_for(lambda: store.count_runs(status="success") == len(runs), timeout=90, what="every run to succeed")

    assert all(worker.alive for worker in trio)
    assert_every_run_done_right(store, runs)
    finished = [(m.group(1), m.group(2)) for worker in trio for m in FINISHED.finditer(worker.text())]
    assert Counter(run_id for _, run_id in finished) == Counter(dict.fromkeys(runs, 1))
    assert not {run_id for worker_id, run_id in finished if worker_id == victim.worker_id()} & lost
    assert lost and all(f"lost run {run_id}" in victim.text() for run_id in lost)
    executions = Trace.read(trace)
    executions.assert_never_concurrent()
    repeated = executions.repeated()
    assert set(repeated.values()) <= {2}
    assert {job.split(":")[0] for job in repeated} <= lost  # only a step the stall cut into ran again


# --- steps that take their worker down ------------------------------------------------------
# A script cannot kill its worker any more (it runs in a sandbox), but an engine crash,
# the worker running out of memory or a hung worker process can still cut a step short
# every time it runs. Here the test does it to the worker, from outside, each time the
# step starts (the step says so in the trace).


def poisoned(store: Store, trace: Path) -> str:
    """Queue a run of one traced step, x, that runs for a long while."""
    step = py("x", TRACED_STEP.replace("TRACE", repr(str(trace))), x="js:flow_input.x", pause=30)
    [run_id] = submit(store, flow(step, schema=SCHEMA), [1])
    return run_id


def holder(store: Store, run_id: str, workers: list[Worker]) -> Worker:
    """The worker process that holds the run now."""
    worker_id = store.get_run(run_id).worker_id
    [found] = [worker for worker in workers if worker.worker_id() == worker_id]
    return found


def starts_of(trace: Path, run_id: str) -> int:
    return len(Trace.read(trace).jobs.get(f"{run_id}:x", []))


def assert_failed_as_poison(store: Store, run_id: str, losses: int) -> None:
    run = store.get_run(run_id)
    assert run.status == "failure", (run.status, run.error)
    assert (run.error["name"], run.error["step_id"]) == ("WorkerLost", "x")
    assert run.error["message"] == f"worker lost {losses} times while running step x"
    record = store.load_steps(run_id)["x"]
    assert (record.status, record.data["worker_losses"]) == ("failure", losses)


def test_a_step_that_kills_its_worker_fails_its_run_after_three_losses_and_others_go_on(store, db_url, tmp_path, workers):
    trace, others_trace = tmp_path / "trace", tmp_path / "others"
    run_id = poisoned(store, trace)
    # Claimed with the poisoned run by the same worker and killed with it: then taken
    # over together again, it runs apart from the step that kills workers.
    companion = submit(store, traced_flow(others_trace, 1.5, 0.05), [100])
    [companion_id] = companion
    start_worker(workers, db_url, tmp_path, "--concurrency", "2")
    wait_for(lambda: Trace.read(others_trace).jobs.get(f"{companion_id}:a"), what="the companion to start")
    others = dict(companion)
    for kill in range(3):
        wait_for(lambda: starts_of(trace, run_id) == kill + 1, what=f"step x to start ({kill + 1})")
        victim = holder(store, run_id, workers)
        os.killpg(victim.proc.pid, signal.SIGKILL)  # the worker and everything it started
        victim.proc.wait()
        others.update(submit(store, traced_flow(others_trace, 0.05, 0.05), [10 * kill + i for i in range(3)]))
        for _ in range(2 if kill == 0 else 1):
            start_worker(workers, db_url, tmp_path, "--concurrency", "2")
    wait_for(lambda: store.get_run(run_id).status == "failure", timeout=60, what="the poisoned run to fail")

    assert_failed_as_poison(store, run_id, 3)
    assert starts_of(trace, run_id) == 3  # the fourth taker did not run it again
    wait_for(lambda: store.count_runs(status="success") == len(others), timeout=60, what="the other runs")
    assert_every_run_done_right(store, others)
    assert store.load_steps(companion_id)["a"].data["worker_losses"] == 1  # lost beside it once only
    assert len(Trace.read(others_trace).jobs[f"{companion_id}:a"]) == 2


def test_a_step_that_hangs_its_worker_fails_its_run_after_the_configured_losses(store, db_url, tmp_path, workers):
    trace, others_trace = tmp_path / "trace", tmp_path / "others"
    run_id = poisoned(store, trace)
    others = submit(store, traced_flow(others_trace, 0.05, 0.05), list(range(4)))
    for _ in range(3):  # two to hang, one to find the run lost twice
        start_worker(workers, db_url, tmp_path, "--concurrency", "2", MILLRACE_MAX_WORKER_LOSSES="2")
    hung = []
    for stop in range(2):
        wait_for(lambda: starts_of(trace, run_id) == stop + 1, what=f"step x to start ({stop + 1})")
        hung.append(holder(store, run_id, workers))
        os.kill(hung[-1].proc.pid, signal.SIGSTOP)  # the worker's process only: its heartbeat stops
    wait_for(lambda: store.get_run(run_id).status == "failure", timeout=60, what="the poisoned run to fail")

    assert_failed_as_poison(store, run_id, 2)
    assert starts_of(trace, run_id) == 2
    wait_for(lambda: store.count_runs(status="success") == len(others), timeout=60, what="the other runs")
    assert_every_run_done_right(store, others, nothing_else=False)
    # Woken up, the hung workers find the run taken from them and write nothing for it.
    for worker in hung:
        os.kill(worker.proc.pid, signal.SIGCONT)
    wait_for(lambda: all(f"lost run {run_id}" in worker.text() for worker in hung), what="the hung workers to let go")
    time.sleep(1.0)
    assert_failed_as_poison(store, run_id, 2)
    assert all(worker.alive for worker in workers)
