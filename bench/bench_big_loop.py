"""A loop of 1,000,000 identity steps: how long it takes, how much memory the process
running it holds as it goes (resident set size at every tenth of the loop and at its
peak), and how long the run's page takes to open afterwards.

Two set-ups:

- **engine**: an Engine in this process on SQLite, as `python -m engine run` runs a flow;
- **app**: the real app (built and started as the app tests do) runs the flow it is sent
  over REST; its processes' memory is read from /proc while the loop runs, then the run's
  page is opened in Chromium `--opens` times (median and max time until the loop's
  summary shows), and the page's read of the run (`app.views.run_view.read`) is timed alone.

Not a timed test: it prints its figures. Run from the project root:
`.venv/bin/python bench/bench_big_loop.py [--iterations N] [--only engine|app]`
(about 15 minutes for both set-ups on 2 cores at 1,000,000 iterations).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import Engine, Store  # noqa: E402
from tests.app.apikit import W, flow_body  # noqa: E402
from tests.app.conftest import CHROMIUM, CHROMIUM_ARGS, log_in, session_cookie  # noqa: E402
from tests.app.server import ADMIN_PASSWORD, running_app  # noqa: E402

PATH = "f/bench/big_loop"
SAMPLES = 10


def loop_flow(count: int) -> list[dict]:
    iterator = {"type": "javascript", "expr": f"Array.from({{length: {count}}}, (_, i) => i)"}
    return [{"id": "l", "value": {"type": "forloopflow", "iterator": iterator,
                                  "modules": [{"id": "s", "value": {"type": "identity"}}]}}]


def rss_mb(pids: list[int]) -> tuple[float, float]:
    """(resident set size now, its peak), in MB, summed over `pids`."""
    now = peak = 0.0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        now += int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
        peak += int(fields.get("VmHWM", "0 kB").split()[0]) / 1024
    return now, peak


def process_tree(root: int) -> list[int]:
    """`root` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def engine_figures(count: int) -> dict:
    """Run the loop in this process and sample its memory at every tenth of the loop."""
    marks = {count * k // SAMPLES - 1 for k in range(1, SAMPLES + 1)}
    samples: list[float] = []

    def sample(event) -> None:
        if event.kind == "step_finished" and event.step_id == "s" and event.iteration in marks:
            samples.append(rss_mb([os.getpid()])[0])

    with tempfile.TemporaryDirectory() as workdir:
        engine = Engine(store=Store.open(f"sqlite:///{workdir}/bench.db"))
        engine.events.add_listener(sample)
        began = time.perf_counter()
        outcome = asyncio.run(engine.run({"value": {"modules": loop_flow(count)}}, {}))
        seconds = time.perf_counter() - began
        assert outcome.status == "success" and len(outcome.result) == count, outcome.error
        engine.store.close()
    return {"seconds": seconds, "rss": samples, "peak": rss_mb([os.getpid()])[1]}


def app_figures(count: int, opens: int) -> dict:
    """Send the loop to the real app, sample its memory while it runs, then open its page."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as workdir, running_app(Path(workdir)) as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as api:
            assert api.post(f"{W}/flows/create", json=flow_body(PATH, loop_flow(count))).status_code == 201
            began = time.perf_counter()
            run_id = api.post(f"{W}/jobs/run/f/{PATH}", json={}).text
            samples, seconds = _follow(server, run_id, count, began)
        peak = rss_mb(process_tree(server.process.pid))[1]
        read_ms = _timed_reads(server.db_url, run_id, opens)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            secret = log_in(server.url, "admin", ADMIN_PASSWORD)
            open_ms = [_open_page(browser, server.url, secret, run_id, count) for _ in range(opens + 1)][1:]
            browser.close()
    return {"seconds": seconds, "rss": samples, "peak": peak, "open_ms": open_ms, "read_ms": read_ms}


def _follow(server, run_id: str, count: int, began: float) -> tuple[list[float], float]:
    """Sample the app's memory at every tenth of the loop (as its progress says) until the run ends."""
    store = Store.open(server.db_url)
    samples: list[float] = []
    try:
        while True:
            run = store.get_run(run_id)
            if run.status in ("success", "failure", "canceled"):
                assert run.status == "success", run.error
                return samples, time.perf_counter() - began
            loop = store.load_step(run_id, "l")
            done = ((loop.data or {}).get("progress") or {}).get("iterations", 0) if loop else 0
            if done >= count * (len(samples) + 1) // SAMPLES:
                samples.append(rss_mb(process_tree(server.process.pid))[0])
            time.sleep(0.5)
    finally:
        store.close()


def _timed_reads(db_url: str, run_id: str, times: int) -> list[float]:
    from app.views import run_view
    from engine import Store as PlainStore

    store = PlainStore.open(db_url)
    samples = []
    for _ in range(times):
        began = time.perf_counter()
        run_view.read(store, run_id, run_view.Pages())
        samples.append((time.perf_counter() - began) * 1000)
    store.close()
    return samples


def _open_page(browser, url: str, secret: str, run_id: str, count: int) -> float:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_cookies([session_cookie(url, secret)])
    page = context.new_page()
    began = time.perf_counter()
    page.goto(f"{url}/runs/{run_id}", wait_until="commit")
    page.locator('[data-loop-summary="l"]').filter(has_text=f"{count:,} iterations").wait_for(timeout=120_000)
    elapsed = (time.perf_counter() - began) * 1000
    context.close()
    return elapsed


def report(name: str, count: int, figures: dict) -> None:
    rss = figures["rss"]
    print(f"{name}: {count:,} iterations in {figures['seconds']:.1f} s "
          f"({figures['seconds'] / count * 1e6:.0f} µs per iteration)")
    if rss:
        print(f"  resident memory at each tenth of the loop (MB): {' '.join(f'{mb:.0f}' for mb in rss)}")
        print(f"  growth from the first tenth to the end: {rss[-1] - rss[0]:+.0f} MB; peak {figures['peak']:.0f} MB")
    for key, label in (("read_ms", "run page's read of the run"), ("open_ms", "run page open in Chromium")):
        if figures.get(key):
            samples = figures[key]
            print(f"  {label}: median {statistics.median(samples):.0f} ms, max {max(samples):.0f} ms "
                  f"({len(samples)} times)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("engine", "app"))
    parser.add_argument("--opens", type=int, default=5)
    args = parser.parse_args()
    if args.only in (None, "engine"):
        report("engine (this process, SQLite)", args.iterations, engine_figures(args.iterations))
    if args.only in (None, "app"):
        report("app (its processes, SQLite)", args.iterations, app_figures(args.iterations, args.opens))


if __name__ == "__main__":
    main()
