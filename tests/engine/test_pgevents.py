"""Events cross processes through PostgreSQL: the payload format, and real processes on a real server."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import BadInput, Engine, Event, EventBus, EventRelay, Store
from engine.event_payload import MAX_PAYLOAD_BYTES, own_prefix, pack, shrink, unpack
from tests.flowkit import flow, py
from tests.pg import SKIP_ENV, Cluster, find_bin_dir, pg_database, pg_url  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
LONG_LINE = "y" * 20_000
BIG_ROWS = [f"row {i:05d}" for i in range(3000)]  # about 36 kB of JSON
WAIT = 60.0


def step_finished(result: Any, **data: Any) -> Event:
    return Event(kind="step_finished", run_id="r1", ts=1.5, step_id="a", key="a",
                 data={"status": "success", "result": result, **data})


# ---- the payload ------------------------------------------------------------------------------

def only(payloads: tuple[list[str], int]) -> tuple[Event, list[str], list[str]]:
    """The one event of what `pack` made of one event."""
    texts, unfit = payloads
    assert unfit == 0 and len(texts) == 1
    assert len(texts[0].encode()) <= MAX_PAYLOAD_BYTES
    (entry,) = unpack(texts[0])[1]
    return entry


def test_a_small_event_travels_whole():
    event = step_finished({"n": 1})
    payloads, _ = pack([event], "p1")
    assert unpack(payloads[0]) == ("p1", [(event, [], [])])
    assert payloads[0].startswith(own_prefix("p1")) and not payloads[0].startswith(own_prefix("p"))


def test_small_events_travel_several_to_a_payload_in_order():
    events = [Event(kind="step_log", run_id="r1", ts=n, data={"line": f"line {n}"}) for n in range(1000)]
    payloads, unfit = pack(events, "p1")
    assert unfit == 0 and 5 < len(payloads) < 50
    assert all(len(p.encode()) <= MAX_PAYLOAD_BYTES for p in payloads)
    assert [event for p in payloads for event, _, _ in unpack(p)[1]] == events
    assert len(set(payloads)) == len(payloads)  # PostgreSQL would deliver equal payloads once


def test_a_big_result_is_left_out_to_be_read_back_from_the_store():
    back, ref, cut = only(pack([step_finished(BIG_ROWS, duration=0.25)], "p1"))
    assert ref == ["result"] and cut == []
    assert back.data == {"status": "success", "duration": 0.25}


def test_a_long_log_line_is_cut_with_a_marker_saying_how_long_it_was():
    event = Event(kind="step_log", run_id="r1", ts=2.0, step_id="a", key="a",
                  data={"ts": 2.0, "stream": "stdout", "line": "é" * 10_000})
    back, ref, cut = only(pack([event], "p1"))
    assert ref == [] and cut == ["line"]
    assert back.data["line"].startswith("é" * 1000)
    assert back.data["line"].endswith("… [cut: 20000 bytes in all]")
    assert back.data["stream"] == "stdout"


def test_a_cut_error_object_keeps_its_shape():
    error = {"name": "ValueError", "message": "bad", "stack": "\n" * 30_000}
    cut = shrink(error, 1000)
    assert set(cut) == {"name", "message", "stack"}
    assert cut["name"] == "ValueError" and cut["message"] == "bad"
    assert cut["stack"].endswith("[cut: 30000 bytes in all]")
    assert len(json.dumps(cut, separators=(",", ":"), ensure_ascii=False).encode()) <= 1000


def test_a_relay_needs_postgresql(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        assert EventRelay.for_engine(Engine(store=store)) is None
        with pytest.raises(BadInput, match="PostgreSQL"):
            EventRelay(EventBus(), store)
    finally:
        store.close()


# ---- two processes on one server --------------------------------------------------------------

PEER_FLOW = flow(
    py("greet", "def main():\n    print('hello')\n    return {'n': 1}\n"),
    py("big", f"def main():\n    return {BIG_ROWS!r}\n"),
    py("shout", f"def main():\n    print({LONG_LINE!r})\n    return 'done'\n"),
)


async def run_peer(db_url: str, document: dict[str, Any], run_id: str, tmp_path: Path) -> None:
    """Run a flow in another process with its own relay, and wait for it to exit."""
    flow_file = tmp_path / f"{run_id}.json"
    flow_file.write_text(json.dumps(document))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.engine.relay_peer", db_url, str(flow_file), run_id, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), WAIT)
    assert proc.returncode == 0, err.decode()


async def events_until_finished(subscription: Any) -> list[Event]:
    events: list[Event] = []
    while not events or events[-1].kind != "run_finished":
        events.append(await asyncio.wait_for(subscription.get(), WAIT))
    return events


async def wait_until(condition: Any, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_a_flow_run_in_another_process_streams_every_event_here_once(pg_database, tmp_path):
    run_id = uuid.uuid4().hex

    async def scenario() -> tuple[list[Event], list[Event], EventRelay]:
        engine = Engine(store=Store.open(pg_database))
        try:
            remote, own = engine.events.subscribe(run_id), engine.events.subscribe("own-run")
            async with EventRelay(engine.events, engine.store) as relay:
                assert await asyncio.to_thread(relay.wait_listening, WAIT)
                # Published here before the peer starts: its echo would come back first.
                engine.events.publish(Event(kind="step_log", run_id="own-run", ts=1.0, data={"line": "mine"}))
                await run_peer(pg_database, PEER_FLOW, run_id, tmp_path)
                events = await events_until_finished(remote)
            return events, [own.queue.get_nowait() for _ in range(own.queue.qsize())], relay
        finally:
            await engine.close()
            engine.store.close()

    events, own, relay = asyncio.run(scenario())
    kinds = [e.kind for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    finished = {e.step_id: e.data for e in events if e.kind == "step_finished"}
    assert [e.step_id for e in events if e.kind == "step_finished"] == ["greet", "big", "shout"]
    assert finished["greet"]["result"] == {"n": 1}
    assert finished["big"]["result"] == BIG_ROWS  # too big for a NOTIFY: read back from the store
    assert "truncated" not in finished["big"]
    logs = [e.data for e in events if e.kind == "step_log"]
    assert [d["line"] for d in logs][0] == "hello"
    assert logs[1]["line"].startswith("y" * 5000) and logs[1]["line"].endswith("[cut: 20000 bytes in all]")
    assert logs[1]["truncated"] == ["line"]
    assert events[-1].data["status"] == "success" and events[-1].data["result"] == "done"
    assert [e.data["line"] for e in own] == ["mine"]  # not echoed back
    assert relay.received >= len(events)


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    """A PostgreSQL server of this test's own, which it may stop and start."""
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"PostgreSQL tests skipped ({SKIP_ENV}=1)")
    cluster = Cluster(find_bin_dir())
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def test_the_relay_outlives_a_postgresql_restart(own_cluster, tmp_path):
    db_url, run_id = own_cluster.create_database("relay"), uuid.uuid4().hex

    async def scenario() -> tuple[list[Event], float]:
        engine = Engine(store=Store.open(db_url))
        try:
            subscription = engine.events.subscribe(run_id)
            async with EventRelay(engine.events, engine.store) as relay:
                assert await asyncio.to_thread(relay.wait_listening, WAIT)
                await asyncio.to_thread(own_cluster.stop_server)
                started = time.perf_counter()
                for n in range(500):  # PostgreSQL is away: publishing neither raises nor waits
                    engine.events.publish(Event(kind="step_log", run_id="elsewhere", ts=n, data={"line": str(n)}))
                publish_seconds = time.perf_counter() - started
                await asyncio.to_thread(own_cluster.start_server)
                assert await asyncio.to_thread(relay.flush, WAIT)  # sent once it is back
                assert relay.sent >= 500 and relay.dropped == 0
                await wait_until(lambda: relay.connects >= 2 and relay.wait_listening(0))
                await run_peer(db_url, flow(py("a", "def main():\n    return 7\n")), run_id, tmp_path)
                return await events_until_finished(subscription), publish_seconds
        finally:
            await engine.close()
            engine.store.close()

    events, publish_seconds = asyncio.run(scenario())
    assert publish_seconds < 0.5
    assert [e.kind for e in events if e.kind in ("step_finished", "run_finished")] == ["step_finished", "run_finished"]
    assert events[-1].data["result"] == 7
