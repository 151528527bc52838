"""Parts: parallel iterations and branches spread over workers, steps routed by tag."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from engine import Engine, Store
from engine.executor.parts import normalize_tags
from engine.worker import QueueWorker
from tests.engine.test_worker import db_url, start_worker, statuses, submit, wait_for, workers  # noqa: F401
from tests.flowkit import bash, flow, for_loop, py
from tests.pg import pg_url  # noqa: F401

SCHEMA = {"properties": {"n": {"type": "integer"}, "k": {"type": "integer"}}}


def span_step(step_id: str, spans: Path, seconds: float) -> dict[str, Any]:
    """A python step that sleeps, records (start, end, pid) in `spans` and returns x * x."""
    code = (
        "import json, os, time\n"
        "def main(x):\n"
        "    start = time.time()\n"
        f"    time.sleep({seconds})\n"
        f"    with open({str(spans)!r}, 'a') as f:\n"
        "        f.write(json.dumps([start, time.time(), os.getpid(), x]) + '\\n')\n"
        "    return x * x\n"
    )
    return py(step_id, code, x="js:flow_input.iter.value")


def mixed_flow() -> dict[str, Any]:
    """Loop iterations with a python and a bash step, a branchall, and a step reading them all."""
    loop = for_loop("loop", "results.a", [
        py("sq", "def main(x, k):\n    return x * x + k\n", x="js:flow_input.iter.value", k="js:flow_input.k"),
        bash("inc", 'x="$1"\necho "inc $x" >&2\necho $((x+1))', x="js:results.sq"),
    ], parallel=True, parallelism=3)
    branches = {"id": "br", "value": {"type": "branchall", "branches": [
        {"modules": [py("b1", "def main():\n    return 'one'\n")]},
        {"modules": [py("b2", "def main(p):\n    return ['two', p]\n", p="js:previous_result")]},
    ]}}
    return flow(
        py("a", "def main(n):\n    return list(range(n))\n", n="js:flow_input.n"),
        loop, branches,
        py("z", "def main(l, b, c):\n    return [l, b, c]\n", l="js:results.loop", b="js:results.br",
           c="js:results.b2"),
        schema=SCHEMA,
    )


async def serve(store: Store, run_id: str, *roles: dict[str, Any], timeout: float = 60.0) -> list[QueueWorker]:
    """Run queue workers (one Engine and Store each, on `store`'s database) until `run_id` has ended."""
    engines = [Engine(store=Store.open(store.url)) for _ in roles]
    pool = [QueueWorker(engine, poll=0.05, heartbeat=1, stale_after=10, spread=True, **role)
            for engine, role in zip(engines, roles)]
    tasks = [asyncio.create_task(worker.serve()) for worker in pool]
    try:
        async with asyncio.timeout(timeout):
            while store.get_run(run_id).status not in ("success", "failure"):
                await asyncio.sleep(0.02)
    finally:
        for worker in pool:
            worker.stop()
        await asyncio.gather(*tasks)
        for engine in engines:
            await engine.close()
            engine.store.close()
    return pool


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store.open(f"sqlite:///{tmp_path / 'parts.db'}")
    yield store
    store.close()


def parts_of(store: Store, run_id: str) -> list[Any]:
    return [run for run in store.list_runs(parent_run_id=run_id, limit=1000) if run.kind == "part"]


def test_a_spread_flow_ends_as_it_does_in_one_process(store, tmp_path):
    document = mixed_flow()
    alone = Store.open(f"sqlite:///{tmp_path / 'alone.db'}")

    async def in_one_process() -> Any:
        async with Engine(store=alone) as engine:
            return await engine.run(document, {"n": 5, "k": 10})

    expected = asyncio.run(in_one_process())
    run_id = Engine(store=store).submit(document, {"n": 5, "k": 10})
    asyncio.run(serve(store, run_id, {"concurrency": 2}, {"concurrency": 2}))

    run = store.get_run(run_id)
    assert (run.status, run.result) == ("success", expected.result)
    assert run.result == [[11, 12, 15, 20, 27], ["one", ["two", [11, 12, 15, 20, 27]]], ["two", [11, 12, 15, 20, 27]]]
    steps, reference = store.load_steps(run_id), alone.load_steps(expected.run_id)
    assert {k: (s.status, s.result) for k, s in steps.items()} == {k: (s.status, s.result) for k, s in reference.items()}
    assert "spread" not in steps["loop"].data and "spread" not in steps["br"].data
    parts = parts_of(store, run_id)
    assert sorted(p.state["target"]["type"] for p in parts) == ["branch"] * 2 + ["iteration"] * 5
    assert {p.status for p in parts} == {"success"}
    logged = sorted(line.line for line in store.get_logs(run_id, step_key="loop/2/inc"))
    assert logged == sorted(line.line for line in alone.get_logs(expected.run_id, step_key="loop/2/inc"))
    assert logged == ["15", "inc 14"]
    assert store.list_runs(top_level=True) == [store.get_run(run_id)]
    alone.close()


def test_steps_go_to_the_workers_that_take_their_tag(store):
    document = flow(
        py("a", "def main():\n    return 20\n"),
        bash("b", 'x="$1"\necho $((x + 1))', x="js:results.a"),
        {**py("c", "def main(x):\n    return x * 2\n", x="js:results.b"), "value": {
            **py("c", "def main(x):\n    return x * 2\n", x="js:results.b")["value"], "tag": "gpu"}},
    )
    run_id = Engine(store=store).submit(document)
    general, shells, gpus = asyncio.run(serve(
        store, run_id, {"tags": ["flow", "python"]}, {"tags": ["bash"]}, {"tags": ["gpu"]}))

    run = store.get_run(run_id)
    assert (run.status, run.result) == ("success", 42)
    holders = {p.state["target"]["key"]: (p.tag, p.worker_id) for p in parts_of(store, run_id)}
    assert holders == {"b": ("bash", shells.worker_id), "c": ("gpu", gpus.worker_id)}
    assert run.worker_id is None or run.worker_id == general.worker_id
    assert set(store.load_steps(run_id)) == {"a", "b", "c"}


def test_a_failing_iteration_fails_the_loop_and_names_step_and_iteration(store):
    body = [py("d", "def main(x):\n    return 10 // x\n", x="js:flow_input.iter.value")]
    document = flow(for_loop("loop", "[1, 0, 2]", body, parallel=True, skip_failures=False))
    run_id = Engine(store=store).submit(document)
    asyncio.run(serve(store, run_id, {"concurrency": 2}, {"concurrency": 2}))
    run = store.get_run(run_id)
    assert run.status == "failure"
    assert (run.error["name"], run.error["step_id"], run.error["iteration"]) == ("ZeroDivisionError", "d", 1)
    assert run.result[0] == 10 and run.result[2] == 5 and run.result[1]["error"]["name"] == "ZeroDivisionError"

    document = flow(for_loop("loop", "[1, 0, 2]", body, parallel=True))  # skip_failures: true by default
    run_id = Engine(store=store).submit(document)
    asyncio.run(serve(store, run_id, {"concurrency": 2}))
    run = store.get_run(run_id)
    assert run.status == "success" and run.result[::2] == [10, 5] and "error" in run.result[1]


def test_approval_steps_subflows_and_same_worker_flows_are_not_spread(store):
    approval = {**py("w", "def main():\n    return 1\n"), "suspend": {"required_events": 1, "timeout": 60}}
    waiting = flow(for_loop("loop", "[1, 2]", [approval], parallel=True))
    run_id = Engine(store=store).submit(waiting)
    with pytest.raises(TimeoutError):
        asyncio.run(serve(store, run_id, {"concurrency": 1}, timeout=3))
    assert store.get_run(run_id).status == "suspended" and parts_of(store, run_id) == []

    same = flow(for_loop("loop", "[1, 2, 3]", [bash("b", 'x="$1"\necho $((x * 3))', x="js:flow_input.iter.value")],
                         parallel=True), same_worker=True)
    run_id = Engine(store=store).submit(same)
    asyncio.run(serve(store, run_id, {"tags": ["flow"]}))
    assert store.get_run(run_id).result == [3, 6, 9] and parts_of(store, run_id) == []


def test_worker_tags_take_the_usual_aliases():
    assert normalize_tags([" python", "bash ", "", "python3", "gpu"]) == ["python3", "bash", "gpu"]
    assert normalize_tags(None) is None


# --- several worker processes on one PostgreSQL --------------------------------------------


def spans_of(path: Path) -> list[list[float]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def most_at_once(spans: list[list[float]]) -> int:
    edges = sorted([(s[0], 1) for s in spans] + [(s[1], -1) for s in spans], key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, change in edges:
        running += change
        peak = max(peak, running)
    return peak


def test_iterations_spread_over_worker_processes_with_parallelism_honoured(db_url, tmp_path, workers):  # noqa: F811
    spans = tmp_path / "spans"
    document = flow(for_loop("loop", "[1, 2, 3, 4, 5, 6, 7, 8]", [span_step("s", spans, 0.4)],
                             parallel=True, parallelism=3))
    [run_id] = submit(db_url, document)
    for _ in range(3):
        start_worker(workers, db_url, tmp_path, "--concurrency", "2")
    wait_for(lambda: statuses(db_url, [run_id]) == ["success"], timeout=60)

    store = Store.open(db_url)
    assert store.get_run(run_id).result == [1, 4, 9, 16, 25, 36, 49, 64]
    workers_used = {p.worker_id for p in store.list_runs(parent_run_id=run_id, limit=100)}
    store.close()
    runs = spans_of(spans)
    assert sorted(r[3] for r in runs) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert most_at_once(runs) == 3
    assert len(workers_used) >= 2  # the iterations ran in more than one worker process


def test_killing_the_worker_that_holds_the_flow_loses_no_iteration(db_url, tmp_path, workers):  # noqa: F811
    spans = tmp_path / "spans"
    document = flow(for_loop("loop", "[1, 2, 3, 4, 5, 6]", [span_step("s", spans, 0.8)],
                             parallel=True, parallelism=2),
                    py("after", "def main(x):\n    return sum(x)\n", x="js:results.loop"))
    [run_id] = submit(db_url, document)
    first = start_worker(workers, db_url, tmp_path, "--concurrency", "1")
    store = Store.open(db_url)
    wait_for(lambda: len(spans_of(spans)) >= 2, timeout=30)
    holder = store.get_run(run_id).worker_id
    assert str(first.pid) in holder
    for _ in range(2):
        start_worker(workers, db_url, tmp_path, "--concurrency", "2")
    os.killpg(first.pid, signal.SIGKILL)
    wait_for(lambda: statuses(db_url, [run_id]) == ["success"], timeout=60)

    run = store.get_run(run_id)
    assert run.result == 91 and run.worker_id != holder
    done = spans_of(spans)
    assert sorted(set(r[3] for r in done)) == [1, 2, 3, 4, 5, 6]
    assert len(done) <= 6 + 1  # only the step running in the killed worker may run again
    parts = store.list_runs(parent_run_id=run_id, limit=100)
    assert len(parts) == 6 and {p.status for p in parts} == {"success"}
    store.close()


def test_parts_are_listed_only_with_their_parent(store):
    document = flow(for_loop("loop", "[1, 2]", [py("s", "def main(x):\n    return x\n", x="js:flow_input.iter.value")],
                             parallel=True))
    run_id = Engine(store=store).submit(document)
    asyncio.run(serve(store, run_id, {"concurrency": 2}))
    assert [r.id for r in store.list_runs()] == [run_id] and store.count_runs() == 1
    assert len(parts_of(store, run_id)) == 2
