"""How fast the app answers while flows do their worst.

Starts the app as the app tests do (prebuilt frontend, a fresh database), then sets
going at once: a 200,000-iteration loop of identity steps, a flow whose input is a
backtracking regular expression (`/(a+)+$/.test("a".repeat(40) + "b")`), a CPU-bound
Python step and 100 queued runs. Meanwhile it measures p50/p95/max of
`GET /api/version`, `GET /api/w/main/flows/list`, a page's event round trip over the
websocket (as a browser tab sends it, with a session), and how long a step's end
takes to reach a page watching its run. Each is printed with the ratio of its p95 to
the budget (200 ms). Before that, the app's time per identity step on the quiet
machine (a 2,000-iteration loop).

Flows run on the engine's thread, never on the web loop; while an expression does not
stop at its time limit (QuickJS ignores it inside a regular expression), the regex
holds that thread and no other flow moves, though pages keep answering: `--no-regex`
leaves it out, to measure the other workloads.

With `--postgres` the app runs on a throwaway PostgreSQL, which is stopped for
`--outage` seconds in the middle of the window: the same figures are printed for the
requests made while it was away (answers may be errors, but must come quickly).

`--external-workers N` runs flows in N `python -m engine worker` processes instead of
the app's own engine (the app started with MILLRACE_WORKERS=0): the alternative design.

Run from the project root: `.venv/bin/python bench/liveness.py [--seconds 60]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.app import server as app_server  # noqa: E402
from tests.app.apikit import W, flow_body, py_step  # noqa: E402
from tests.app.conftest import log_in  # noqa: E402
from tests.app.eventsocket import EventSocket  # noqa: E402

BUDGET_MS = 200.0
LOOP_ITERATIONS = 200_000
QUEUED_RUNS = 100
PROBE_STEPS = 400
REQUEST_TIMEOUT = 30.0
SAMPLE_EVERY = 0.1
"""Seconds between two requests of one kind (each kind has a thread of its own)."""
REGEX = '/(a+)+$/.test("a".repeat(40) + "b")'
UNAVAILABLE = "database is unavailable"
"""What a page is answered while the database is away."""
RUN_LOAD = "reflex___state____state.app___states___run____run_state.load"
STEP_SECONDS = 0.4
"""How long each step of the watched flow works before it ends (its end is what is timed)."""


def flows(cpu_seconds: float) -> dict[str, dict[str, Any]]:
    """The flows of the workloads, by name."""
    make = py_step("make", f"def main():\n    import time\n    time.sleep(5)\n"
                           f"    return list(range({LOOP_ITERATIONS}))\n")
    loop = {"id": "loop", "value": {"type": "forloopflow", "iterator": {"type": "javascript", "expr": "results.make"},
                                    "modules": [{"id": "same", "value": {"type": "identity"}}]}}
    burn = ("def main():\n    import time\n    end, n = time.time() + %s, 0\n"
            "    while time.time() < end:\n        n += 1\n    return n\n" % cpu_seconds)
    probe = ("def main():\n    import time\n    time.sleep(%s)\n    print(f'ended {time.time():.6f}')\n"
             "    return 1\n" % STEP_SECONDS)
    return {
        "loop": flow_body("f/bench/loop", [make, loop]),
        "regex": flow_body("f/bench/regex", [py_step("match", "def main(x):\n    return x\n", x=REGEX)]),
        "cpu": flow_body("f/bench/cpu", [py_step("burn", burn)]),
        "queued": flow_body("f/bench/queued", [py_step("wait", "def main():\n    import time\n"
                                                                "    time.sleep(2)\n    return 1\n")]),
        "probe": flow_body("f/bench/probe", [py_step(f"s{n}", probe) for n in range(PROBE_STEPS)]),
        "identity": flow_body("f/bench/identity", [
            {"id": "loop", "value": {"type": "forloopflow",
                                     "iterator": {"type": "javascript", "expr": "flow_input.items"},
                                     "modules": [{"id": "same", "value": {"type": "identity"}}]}}],
            {"items": {"type": "array"}}),
    }


@dataclass
class Samples:
    """Latencies of one kind of request, with when each was sent and whether it succeeded."""

    name: str
    sent: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    ok: list[bool] = field(default_factory=list)
    """False for an answer that was an error (still timed) or never came (timed at the timeout)."""

    def add(self, sent: float, seconds: float, ok: bool = True) -> None:
        self.sent.append(sent)
        self.seconds.append(seconds)
        self.ok.append(ok)

    def within(self, start: float, end: float) -> "Samples":
        """The samples sent between `start` and `end` (time.time())."""
        out = Samples(self.name)
        for sent, seconds, ok in zip(self.sent, self.seconds, self.ok):
            if start <= sent < end:
                out.add(sent, seconds, ok)
        return out


def row(samples: Samples) -> dict[str, Any]:
    values = sorted(samples.seconds)
    if not values:
        return {"name": samples.name, "count": 0}
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return {"name": samples.name, "count": len(values), "failed": samples.ok.count(False),
            "p50_ms": statistics.median(values) * 1000, "p95_ms": p95 * 1000, "max_ms": values[-1] * 1000,
            "ratio": p95 * 1000 / BUDGET_MS}


def print_rows(title: str, rows: list[dict[str, Any]]) -> None:
    print(title)
    print(f"{'measure':44} {'n':>5} {'failed':>6} {'p50':>9} {'p95':>9} {'max':>9} {'ratio':>6}")
    for r in rows:
        if not r["count"]:
            print(f"{r['name']:44} {0:>5}   (nothing measured)")
            continue
        print(f"{r['name']:44} {r['count']:>5} {r['failed']:>6} {r['p50_ms']:>6.1f} ms {r['p95_ms']:>6.1f} ms "
              f"{r['max_ms']:>6.0f} ms {r['ratio']:>6.2f}")


class Sampler:
    """Threads that time requests until `stop()`."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def every(self, interval: float, measure: Callable[[], None]) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                began = time.monotonic()
                measure()
                self._stop.wait(max(0.0, interval - (time.monotonic() - began)))

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(REQUEST_TIMEOUT + 5)


def http_probe(client: httpx.Client, path: str, samples: Samples) -> Callable[[], None]:
    def measure() -> None:
        sent, began = time.time(), time.perf_counter()
        try:
            ok = client.get(path, timeout=REQUEST_TIMEOUT).status_code == 200
        except httpx.HTTPError:
            ok = False
        samples.add(sent, time.perf_counter() - began, ok)

    return measure


def event_probe(socket: EventSocket, samples: Samples) -> Callable[[], None]:
    """A page event whose answer carries a value of its own: the round trip is timed."""
    def measure() -> None:
        sent, began = time.time(), time.perf_counter()
        try:
            ok = UNAVAILABLE not in socket.round_trip(REQUEST_TIMEOUT, instead=UNAVAILABLE)
        except (AssertionError, OSError):
            ok = False
        samples.add(sent, time.perf_counter() - began, ok)

    return measure


def step_rows_of(text: str) -> list[dict[str, Any]]:
    """The step rows a run page's state update carries, if any."""
    if not text.startswith("42/_event,"):
        return []
    try:
        _, update = json.loads(text[len("42/_event,"):])
    except ValueError:
        return []
    for values in (update.get("delta") or {}).values():
        if isinstance(values, dict) and isinstance(values.get("steps_rx_state_"), list):
            return values["steps_rx_state_"]
    return []


def watch_steps(socket: EventSocket, run_id: str, arrivals: dict[str, tuple[float, float]],
                stop: threading.Event) -> None:
    """Follow the run's page: when each step ended (as the step printed it) and when the
    page showed it, by step key."""
    socket.send(RUN_LOAD, page=f"/runs/{run_id}")
    while not stop.is_set():
        socket.drain(0.05)
        now = time.time()
        for text in socket.received:
            for step in step_rows_of(text):
                if step.get("status") == "success" and step["key"] not in arrivals and "ended " in step.get("logs", ""):
                    arrivals[step["key"]] = (float(step["logs"].rsplit("ended ", 1)[1].split()[0]), now)
        socket.received.clear()


def step_rows(db_url: str, run_id: str, arrivals: dict[str, tuple[float, float]]) -> list[Samples]:
    """The steps' way to the page, whole and in two parts: to the journal (the engine),
    then from the journal to the page (events, the page's refresh, the websocket)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            recorded = dict(connection.execute(sqlalchemy.text(
                "SELECT key, finished_at FROM steps WHERE run_id = :id"), {"id": run_id}).all())
    finally:
        engine.dispose()
    whole, journaled, shown = (Samples("step end to the watching page"), Samples("  step end to its journal record"),
                               Samples("  journal record to the page"))
    for key, (ended, arrived) in arrivals.items():
        whole.add(ended, arrived - ended)
        if recorded.get(key):
            journaled.add(ended, recorded[key] - ended)
            shown.add(ended, arrived - recorded[key])
    return [whole, journaled, shown]


def start_workloads(api: httpx.Client, with_regex: bool) -> dict[str, Any]:
    """Queue the watched flow first and the hostile ones next (each needs a slot), then
    the 100 runs. The loop's first step waits a few seconds, so that all of them are
    queued before it starts (an app that runs flows on its web loop answers nothing
    more once the loop runs)."""
    runs = {"probe": _run(api, "probe"), "loop": _run(api, "loop"), "cpu": _run(api, "cpu")}
    if with_regex:
        runs["regex"] = _run(api, "regex")
    runs["queued"] = [_run(api, "queued") for _ in range(QUEUED_RUNS)]
    return runs


def _run(api: httpx.Client, name: str, args: dict[str, Any] | None = None) -> str:
    response = api.post(f"{W}/jobs/run/f/f/bench/{name}", json=args or {}, timeout=REQUEST_TIMEOUT)
    assert response.status_code == 201, response.text
    return response.text


def per_step_ms(api: httpx.Client, iterations: int = 2000) -> float:
    """The app's time per identity step on a quiet machine (a loop of `iterations`)."""
    began = time.perf_counter()
    response = api.post(f"{W}/jobs/run_wait_result/f/f/bench/identity", params={"timeout": 300},
                        json={"items": list(range(iterations))}, timeout=320)
    assert response.status_code == 200, response.text[:300]
    return (time.perf_counter() - began) * 1000 / iterations


@dataclass
class Setup:
    seconds: float
    with_regex: bool
    outage: float
    external_workers: int


def measure(server: app_server.Server, setup: Setup, pg: Any = None) -> tuple[list[Samples], float, float]:
    """Run the workloads and time everything for `setup.seconds`; returns the samples and
    when the database outage began and ended (0, 0 without one)."""
    headers = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=headers) as api:
        for body in flows(setup.seconds + 60).values():
            assert api.post(f"{W}/flows/create", json=body, timeout=REQUEST_TIMEOUT).status_code == 201
        quiet = per_step_ms(api)
        print(f"quiet machine: {quiet:.2f} ms per identity step in the app (2,000-iteration loop)", flush=True)
        session = log_in(server.url, "admin", app_server.ADMIN_PASSWORD)
        runs = start_workloads(api, setup.with_regex)
        samples = [Samples(n) for n in ("GET /api/version", "GET flows/list", "page event round trip")]
        arrivals: dict[str, tuple[float, float]] = {}
        outage = _time_all(server, api, session, runs["probe"], samples, arrivals, setup, pg)
        print(progress(server.db_url, runs), flush=True)
    return samples + step_rows(server.db_url, runs["probe"], arrivals), *outage


def progress(db_url: str, runs: dict[str, Any]) -> str:
    """How far each workload got: its status and how many step records it has."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            def one(run_id: str) -> str:
                status = connection.execute(sqlalchemy.text("SELECT status FROM runs WHERE id = :id"),
                                            {"id": run_id}).scalar()
                steps = connection.execute(sqlalchemy.text("SELECT count(*) FROM steps WHERE run_id = :id"),
                                           {"id": run_id}).scalar()
                return f"{status}, {steps} steps"

            lines = [f"  {name}: {one(run_id)}" for name, run_id in runs.items() if isinstance(run_id, str)]
            done = connection.execute(sqlalchemy.text(
                "SELECT count(*) FROM runs WHERE path = 'f/bench/queued' AND status = 'success'")).scalar()
    finally:
        engine.dispose()
    return "\n".join(["workloads at the end of the window:", *lines, f"  queued: {done} of {QUEUED_RUNS} done"])


def _time_all(server: app_server.Server, api: httpx.Client, session: str, probe: str, samples: list[Samples],
              arrivals: dict[str, tuple[float, float]], setup: Setup, pg: Any) -> tuple[float, float]:
    sampler, stop = Sampler(), threading.Event()
    with httpx.Client(base_url=server.url) as bare, EventSocket(server.url, session=session) as events, \
            EventSocket(server.url, session=session) as watcher:
        sampler.every(SAMPLE_EVERY, http_probe(bare, "/api/version", samples[0]))
        sampler.every(SAMPLE_EVERY, http_probe(api, f"{W}/flows/list", samples[1]))
        sampler.every(SAMPLE_EVERY, event_probe(events, samples[2]))
        watch = threading.Thread(target=watch_steps, args=(watcher, probe, arrivals, stop), daemon=True)
        watch.start()
        outage = _wait_window(setup, pg)
        stop.set()
        sampler.stop()
        watch.join(10)
    return outage


def _wait_window(setup: Setup, pg: Any) -> tuple[float, float]:
    if pg is None or not setup.outage:
        time.sleep(setup.seconds)
        return 0.0, 0.0
    time.sleep(max(0.0, (setup.seconds - setup.outage) / 2))
    began = time.time()
    pg.stop_server("fast")
    time.sleep(setup.outage)
    pg.start_server()
    ended = time.time()
    time.sleep(max(0.0, (setup.seconds - setup.outage) / 2))
    return began, ended


@contextlib.contextmanager
def app(workdir: Path, setup: Setup, db_url: str | None) -> Iterator[app_server.Server]:
    port = app_server.free_port()
    app_server.ensure_frontend(port)
    env = {"MILLRACE_WORKERS": "0"} if setup.external_workers else {}
    server = app_server.start(port, workdir, db_url=db_url, env=env)
    workers = [_worker(server, workdir, n) for n in range(setup.external_workers)]
    try:
        yield server
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.wait(10)
            if worker.poll() is None:
                worker.kill()
        app_server.stop(server)


def _worker(server: app_server.Server, workdir: Path, n: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": server.db_url, "BASE_INTERNAL_URL": server.url}
    log = open(workdir / f"worker-{n}.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "engine", "worker", "--concurrency", "8"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)


def run(setup: Setup, postgres: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        if not postgres:
            with app(Path(folder), setup, None) as server:
                report(*measure(server, setup))
            return
        from tests.pg import Cluster, find_bin_dir

        cluster = Cluster(find_bin_dir())
        try:
            cluster.start()
            with app(Path(folder), setup, cluster.create_database("liveness")) as server:
                report(*measure(server, setup, cluster))
        finally:
            cluster.stop()


def report(samples: list[Samples], outage_began: float, outage_ended: float) -> None:
    if not outage_ended:
        print_rows("Under hostile load (budget: p95 200 ms)", [row(s) for s in samples])
        return
    during = [s.within(outage_began, outage_ended) for s in samples]
    before = [s.within(0, outage_began) for s in samples]
    after = [s.within(outage_ended + 2, float("inf")) for s in samples]
    print_rows("Under hostile load, PostgreSQL up (before the outage)", [row(s) for s in before])
    print_rows(f"PostgreSQL stopped ({outage_ended - outage_began:.1f} s): requests sent meanwhile",
               [row(s) for s in during])
    print_rows("PostgreSQL back (from 2 s after it answers again)", [row(s) for s in after])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to measure")
    parser.add_argument("--no-regex", action="store_true", help="leave the backtracking regex out")
    parser.add_argument("--postgres", action="store_true", help="run on PostgreSQL and stop it for a while")
    parser.add_argument("--outage", type=float, default=5.0, help="seconds PostgreSQL stays stopped")
    parser.add_argument("--external-workers", type=int, default=0, help="run flows in N worker processes")
    options = parser.parse_args()
    run(Setup(options.seconds, not options.no_regex, options.outage if options.postgres else 0.0,
              options.external_workers), options.postgres)


if __name__ == "__main__":
    main()
