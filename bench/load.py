"""Load: thousands of runs through queue workers, each counted to have run exactly once.

Two set-ups on this one machine:

- **PostgreSQL**: a throwaway cluster (tests/pg.py) and `--workers` processes of
  `python -m engine worker --concurrency N`, as a scaled-out deployment runs;
- **embedded**: SQLite and one process holding an Engine and a QueueWorker, as the app
  runs its queue when MILLRACE_WORKERS is not 0 (concurrency 8, like the app's).

Each set-up gets three batches: `--runs` one-step runs (`def main(x): return x + 1`) and
`--flows` ten-step flows, each batch submitted at once (runs/s, steps/s, latencies under
a backlog), then `--paced` one-step runs submitted one at a time at 20 runs/s (queue
latency when the workers are not busy). Each batch also reports the CPU its runs cost the
worker processes (engine), their zygotes and forked scripts (python steps) and the
database server, read from /proc: on a machine shared with other work that says more
than runs/s. Every step appends `run id:step key` to a file;
afterwards the database and that file must show each run succeeded with the right
result, one journal record per step, and each step executed exactly once.

Queue latency is `started_at - created_at` of a run, end-to-end latency
`finished_at - created_at`. The throughput budget is 300 one-step runs/s; the ratio
printed is budget / measured, so above 1.00 means the budget is missed, as in the other
benchmarks.

Run from the project root: `.venv/bin/python bench/load.py` (about 6 minutes on 2 cores)
or with `--quick` (under half a minute). Every process and the PostgreSQL cluster it starts are
stopped on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402

from engine import Engine, Store  # noqa: E402
from engine.store.runs import RUNS  # noqa: E402

BUDGET_RUNS_PER_S = 300.0
EMBEDDED_CONCURRENCY = 8  # the app's MAX_CONCURRENT_RUNS
PACE_PER_S = 20.0
FINISHED = ("success", "failure", "canceled")
STOP_GRACE_S = 15.0
STEP_CODE = (
    "import os\n"
    "def main(x: int):\n"
    "    with open({marks!r}, 'a') as f:\n"
    "        f.write(os.environ['WM_JOB_ID'] + '\\n')\n"
    "    return x + 1\n"
)


@dataclass
class Batch:
    """A number of runs of one flow, submitted together (or paced) and checked together."""

    name: str
    path: str
    steps: int
    count: int
    paced: bool = False


@dataclass
class Measured:
    """What one batch did: timings from the runs table and what the checks found wrong."""

    batch: Batch
    submit_s: float
    elapsed_s: float
    queue: list[float]
    e2e: list[float]
    cpu: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def flow_of(steps: int, marks: Path) -> dict[str, Any]:
    """`steps` python steps in a row, each adding 1 to the previous result."""
    code = STEP_CODE.format(marks=str(marks))
    modules = []
    for n in range(steps):
        expr = "flow_input.x" if n == 0 else f"results.s{n - 1}"
        modules.append({"id": f"s{n}", "value": {
            "type": "rawscript", "language": "python3", "content": code,
            "input_transforms": {"x": {"type": "javascript", "expr": expr}}}})
    return {"summary": f"load {steps}", "value": {"modules": modules},
            "schema": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}}


def batches(options: argparse.Namespace) -> list[Batch]:
    return [
        Batch("one-step runs", "bench/one", 1, options.runs),
        Batch("ten-step flows", "bench/ten", 10, options.flows),
        Batch(f"paced one-step runs ({PACE_PER_S:g}/s)", "bench/paced", 1, options.paced, paced=True),
    ]


# --- the processes under test ---------------------------------------------------------


def process_cpu() -> dict[int, tuple[int, float, float]]:
    """Every process: (parent pid, its own CPU seconds, CPU seconds of the children it reaped)."""
    tick = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                text = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = [int(f) for f in text[text.rindex(")") + 2:].split()[1:15]]
            table[int(entry)] = (fields[0], (fields[10] + fields[11]) / tick, (fields[12] + fields[13]) / tick)
    return table


def tree_cpu(roots: list[int]) -> tuple[float, float]:
    """CPU seconds used so far by these processes themselves, and by all their
    descendants, the finished ones included (a parent's cutime holds those it reaped)."""
    table = process_cpu()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    own = sum(table[pid][1] for pid in roots if pid in table)
    below, todo = 0.0, [pid for pid in roots if pid in table]
    while todo:
        pid = todo.pop()
        below += table[pid][2] + (table[pid][1] if pid not in roots else 0.0)
        todo.extend(children.get(pid, []))
    return own, below


class Workers:
    """Worker processes against one database URL, each in a process group of its own."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.procs: list[subprocess.Popen] = []

    def start(self, command: list[str]) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("DATABASE_URL", None)
        log = open(self.workdir / f"worker-{len(self.procs)}.log", "w")
        self.procs.append(subprocess.Popen(command, cwd=self.workdir, env=env, stdout=log, stderr=log,
                                           stdin=subprocess.DEVNULL, start_new_session=True))
        log.close()

    def wait_registered(self, store: Store, expected: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while sum(w.status == "alive" for w in store.list_workers()) < expected:
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"workers did not start; see {self.workdir}/worker-*.log:\n{self.log_tail()}")
            time.sleep(0.1)

    def stop(self) -> list[int | None]:
        """SIGTERM (graceful drain), then SIGKILL what is left; returns the exit codes."""
        for proc in self.procs:
            signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        codes = [proc.poll() for proc in self.procs]
        for proc in self.procs:
            signal_group(proc, signal.SIGKILL)
            proc.wait()
        return codes

    def log_tail(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-1500:] for p in sorted(self.workdir.glob("worker-*.log")))


def signal_group(proc: subprocess.Popen, signum: int) -> None:
    """Signal a worker's process group (its zygote has a session of its own and follows
    the worker out when the worker's end of its stdin closes)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            pass


def pg_commands(url: str, options: argparse.Namespace) -> list[list[str]]:
    worker = [sys.executable, "-m", "engine", "worker", "--db", url,
              "--concurrency", str(options.concurrency), "--grace", "5"]
    return [worker] * options.workers


def embedded_commands(url: str, options: argparse.Namespace) -> list[list[str]]:
    return [[sys.executable, str(Path(__file__).resolve()), "--serve-embedded", url,
             "--embedded-concurrency", str(options.embedded_concurrency)]]


def serve_embedded(url: str, concurrency: int) -> None:
    """One process, one Engine, one QueueWorker on SQLite: the app's embedded mode."""
    from engine.worker import QueueWorker

    async def serve() -> None:
        engine = Engine(store=Store.open(url))
        worker = QueueWorker(engine, concurrency=concurrency, grace=5.0)
        try:
            await worker.serve_until_signalled()
        finally:
            await engine.close()

    asyncio.run(serve())


# --- submitting, waiting, checking ----------------------------------------------------


def submit(engine: Engine, document: dict[str, Any], batch: Batch) -> float:
    """Queue the batch's runs (args x = 0, 1, ...) at once, or one by one when paced;
    returns the seconds it took."""
    began = time.perf_counter()
    if not batch.paced:
        engine.submit_many(document, [{"x": x} for x in range(batch.count)], path=batch.path)
        return time.perf_counter() - began
    for x in range(batch.count):
        engine.submit(document, {"x": x}, path=batch.path)
        time.sleep(max(0.0, began + (x + 1) / PACE_PER_S - time.perf_counter()))
    return time.perf_counter() - began


def wait_finished(store: Store, batch: Batch, workers: Workers) -> None:
    timeout = 120 + batch.count * batch.steps / 20
    deadline = time.monotonic() + timeout
    while store.count_runs(path=batch.path, status=FINISHED) < batch.count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{batch.name}: not finished after {timeout:.0f} s")
        if any(p.poll() is not None for p in workers.procs):
            raise RuntimeError(f"a worker exited:\n{workers.log_tail()}")
        time.sleep(0.2)


def cpu_now(workers: Workers, server_pid: int | None) -> dict[str, float]:
    engine, scripts = tree_cpu([p.pid for p in workers.procs])
    used = {"engine": engine, "python steps": scripts}
    if server_pid is not None:
        used["database"] = sum(tree_cpu([server_pid]))
    return used


def measure(store: Store, engine: Engine, batch: Batch, marks: Path, workers: Workers,
            server_pid: int | None) -> Measured:
    document = flow_of(batch.steps, marks)
    cpu_before = cpu_now(workers, server_pid)
    began = time.time()
    submit_s = submit(engine, document, batch)
    wait_finished(store, batch, workers)
    cpu = {name: seconds - cpu_before[name] for name, seconds in cpu_now(workers, server_pid).items()}
    columns = (RUNS.c.id, RUNS.c.args, RUNS.c.result, RUNS.c.status,
               RUNS.c.created_at, RUNS.c.started_at, RUNS.c.finished_at)
    with store.db.autocommit() as conn:
        rows = conn.execute(select(*columns).where(RUNS.c.path == batch.path)).all()
        records = conn.execute(text(
            "SELECT count(*) FROM steps s JOIN runs r ON s.run_id = r.id "
            "WHERE r.path = :path AND s.status = 'success'"), {"path": batch.path}).scalar_one()
    measured = Measured(batch, submit_s, max(r.finished_at for r in rows) - began,
                        [r.started_at - r.created_at for r in rows], [r.finished_at - r.created_at for r in rows], cpu)
    measured.problems = check_exactly_once(batch, rows, records, marks)
    return measured


def check_exactly_once(batch: Batch, rows: list[Any], records: int, marks: Path) -> list[str]:
    """What is wrong with the batch's runs, step records and step executions (nothing, we hope)."""
    problems = []
    if len(rows) != batch.count:
        problems.append(f"{len(rows)} runs in the database, {batch.count} submitted")
    statuses = Counter(r.status for r in rows)
    if statuses != Counter({"success": batch.count}):
        problems.append(f"statuses {dict(statuses)}")
    wrong = [r.id for r in rows if r.result != r.args["x"] + batch.steps]
    if wrong:
        problems.append(f"{len(wrong)} wrong results, e.g. run {wrong[0]}")
    if records != batch.count * batch.steps:
        problems.append(f"{records} successful step records, expected {batch.count * batch.steps}")
    executed = Counter(marks.read_text().split()) if marks.exists() else Counter()
    expected = {f"{r.id}:s{n}" for r in rows for n in range(batch.steps)}
    twice = [key for key, times in executed.items() if times > 1]
    if twice:
        problems.append(f"{len(twice)} steps executed more than once, e.g. {twice[0]}")
    if set(executed) != expected:
        problems.append(f"{len(expected - set(executed))} steps never executed, "
                        f"{len(set(executed) - expected)} unexpected executions")
    return problems


# --- one set-up from start to end -------------------------------------------------------


@dataclass
class Setup:
    """Where the runs go: a database, the worker commands, and the database server's pid."""

    label: str
    url: str
    commands: list[list[str]]
    server_pid: int | None = None


def run_setup(setup: Setup, workdir: Path, options: argparse.Namespace) -> bool:
    """Start the workers, run every batch, stop them, print the figures; True if all checks pass."""
    store = Store.open(setup.url)
    engine = Engine(store=store)
    workers = Workers(workdir)
    load_before = os.getloadavg()
    try:
        for command in setup.commands:
            workers.start(command)
        workers.wait_registered(store, len(setup.commands))
        warm_up(store, engine, workdir, workers, options)
        results = []
        for batch in batches(options):
            if batch.count > 0:
                marks = workdir / f"marks-{batch.path.split('/')[1]}"
                results.append(measure(store, engine, batch, marks, workers, setup.server_pid))
    finally:
        codes = workers.stop()
        store.close()
    report(setup.label, results, load_before, os.getloadavg(), codes)
    return all(not m.problems for m in results) and codes == [0] * len(codes)


def warm_up(store: Store, engine: Engine, workdir: Path, workers: Workers, options: argparse.Namespace) -> None:
    """A few runs first, so every worker has its Python zygote started before timing."""
    batch = Batch("warm-up", "bench/warmup", 1, max(8, options.workers * options.concurrency))
    submit(engine, flow_of(1, workdir / "marks-warmup"), batch)
    wait_finished(store, batch, workers)


def percentiles(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100, method="inclusive") if len(samples) > 1 else samples * 99
    return " / ".join(f"{cuts[p - 1] * 1000:,.0f}" for p in (50, 95, 99)) + " ms"


def report(label: str, results: list[Measured], load_before: tuple, load_after: tuple, codes: list) -> None:
    print(f"{label}  (load average {load_before[0]:.2f} before, {load_after[0]:.2f} after; "
          f"{os.cpu_count()} cores)")
    for m in results:
        b = m.batch
        rate = b.count / m.elapsed_s
        print(f"  {b.name}: {b.count:,} x {b.steps} step(s), submitted in {m.submit_s:.2f} s "
              f"({b.count / m.submit_s:,.0f} runs/s), done in {m.elapsed_s:.2f} s")
        if not b.paced:
            line = f"    {rate:,.0f} runs/s, {rate * b.steps:,.0f} steps/s"
            if b.steps == 1:
                line += f"; budget {BUDGET_RUNS_PER_S:.0f} runs/s, ratio {BUDGET_RUNS_PER_S / rate:.2f}"
            print(line)
        if not b.paced:
            print("    " + cpu_line(m))
        print(f"    queue latency p50/p95/p99      {percentiles(m.queue)}")
        print(f"    end-to-end latency p50/p95/p99 {percentiles(m.e2e)}")
        print(f"    exactly once: {'ok' if not m.problems else 'FAILED: ' + '; '.join(m.problems)}")
    print(f"  worker exit codes after SIGTERM: {codes}")


def cpu_line(m: Measured) -> str:
    """CPU per run of the worker processes (engine), their zygotes and forked script
    processes (python steps) and the database server, and the runs/s that allows."""
    per_run = {name: seconds / m.batch.count for name, seconds in m.cpu.items()}
    total = sum(per_run.values())
    parts = ", ".join(f"{name} {ms * 1000:.1f}" for name, ms in per_run.items())
    ceiling = os.cpu_count() / total if total else float("inf")
    return (f"CPU per run: {parts} ms, total {total * 1000:.1f} ms: "
            f"at most {ceiling:,.0f} runs/s on {os.cpu_count()} idle cores")


def run_pg(options: argparse.Namespace, workdir: Path) -> bool:
    from tests import pg

    cluster = pg.Cluster(pg.find_bin_dir())
    try:
        cluster.start()
        url = cluster.create_database("load")
        label = f"PostgreSQL, {options.workers} x `python -m engine worker --concurrency {options.concurrency}`"
        server_pid = int((cluster.data / "postmaster.pid").read_text().split()[0])
        return run_setup(Setup(label, url, pg_commands(url, options), server_pid), workdir, options)
    finally:
        cluster.stop()


def run_embedded(options: argparse.Namespace, workdir: Path) -> bool:
    url = f"sqlite:///{workdir / 'millrace.db'}"
    label = f"SQLite embedded, one process, QueueWorker concurrency {options.embedded_concurrency}"
    return run_setup(Setup(label, url, embedded_commands(url, options)), workdir, options)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, help="one-step runs per set-up (default 10,000; quick 200)")
    parser.add_argument("--flows", type=int, help="ten-step flows per set-up (default 1,000; quick 20)")
    parser.add_argument("--paced", type=int, help="one-step runs submitted at 20/s (default 200; quick 20)")
    parser.add_argument("--workers", type=int, default=4, help="PostgreSQL worker processes (default 4)")
    parser.add_argument("--concurrency", type=int, default=4, help="runs each worker holds (default 4)")
    parser.add_argument("--embedded-concurrency", type=int, default=EMBEDDED_CONCURRENCY,
                        help=f"runs the embedded worker holds (default {EMBEDDED_CONCURRENCY}, as the app)")
    parser.add_argument("--backend", choices=("pg", "sqlite", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="small counts, for the smoke test")
    parser.add_argument("--serve-embedded", metavar="URL", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    defaults = (200, 20, 20) if options.quick else (10_000, 1_000, 200)
    for name, default in zip(("runs", "flows", "paced"), defaults):
        if getattr(options, name) is None:
            setattr(options, name, default)
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    if options.serve_embedded:
        serve_embedded(options.serve_embedded, options.embedded_concurrency)
        return 0
    # A SIGTERM unwinds like Ctrl-C, so the `finally`s stop the workers and the cluster.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    passed = True
    with tempfile.TemporaryDirectory(prefix="millrace-load-") as tmp:
        # Each step appends its job id to a file here (the exactly-once check): the
        # workers' sandboxes share this folder with their scripts.
        shared = [path for path in os.environ.get("MILLRACE_SANDBOX_SHARED", "").split(":") if path]
        os.environ["MILLRACE_SANDBOX_SHARED"] = ":".join([*shared, os.path.realpath(tmp)])
        for backend, run in (("pg", run_pg), ("sqlite", run_embedded)):
            if options.backend in (backend, "both"):
                workdir = Path(tmp) / backend
                workdir.mkdir()
                passed = run(options, workdir) and passed
                print()
    print(f"exactly-once check: {'PASSED' if passed else 'FAILED'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
