"""What relaying events through PostgreSQL costs: per event on the run's thread, in CPU,
from one process's bus to another's, and per step of a flow; and, for comparison, how
long an event takes from the engine's thread to a subscriber on another thread's loop
(the app's web loop, which runs no flows).

Run from the project root: `.venv/bin/python bench/bench_events.py` (starts a throwaway
PostgreSQL server like the store tests do).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import Engine, Event, EventBus, EventRelay, Store  # noqa: E402
from tests.pg import Cluster, find_bin_dir  # noqa: E402

EVENTS = 5_000
"""A burst the queue holds whole (QUEUE_SIZE): nothing is dropped."""
BATCHES = 7
LATENCY_EVENTS = 200
STEPS = 40
REPEATS = 15


def log_event(n: int) -> Event:
    return Event(kind="step_log", run_id="bench", ts=time.time(), step_id="a", key="a",
                 data={"ts": time.time(), "stream": "stdout", "line": f"processed row {n} of the batch"})


def publish_seconds(bus: EventBus, count: int) -> float:
    events = [log_event(n) for n in range(count)]
    began = time.perf_counter()
    for event in events:
        bus.publish(event)
    return time.perf_counter() - began


async def per_event_rows(url: str) -> list[dict]:
    plain_bus = EventBus()
    plain_bus.subscribe("elsewhere")
    plain = statistics.median(publish_seconds(plain_bus, EVENTS) for _ in range(BATCHES)) / EVENTS
    store = Store.open(url)
    bus = EventBus()
    bus.subscribe("elsewhere")
    relay = EventRelay(bus, store)
    relay.start()
    try:
        await asyncio.to_thread(relay.wait_listening, 30)
        relayed, cpu = [], []
        for _ in range(BATCHES):
            cpu_began = time.process_time()
            relayed.append(publish_seconds(bus, EVENTS))
            assert await asyncio.to_thread(relay.flush, 120)
            cpu.append(time.process_time() - cpu_began)
        cpu_plain_began = time.process_time()
        publish_seconds(plain_bus, EVENTS)
        cpu_plain = time.process_time() - cpu_plain_began
    finally:
        await relay.close()
        store.close()
    return [
        row("publish, no relay (run's thread)", plain),
        row("publish, relay on (run's thread)", statistics.median(relayed) / EVENTS),
        row("  added per event (run's thread)", statistics.median(relayed) / EVENTS - plain),
        row("  added CPU per event, sender thread included", (statistics.median(cpu) - cpu_plain) / EVENTS),
    ]


async def latency_rows(url: str) -> list[dict]:
    stores = [Store.open(url), Store.open(url)]
    sender_bus, receiver_bus = EventBus(), EventBus()
    arrivals: list[float] = []
    receiver_bus.add_listener(lambda event: arrivals.append(time.time() - event.ts))
    relays = [EventRelay(sender_bus, stores[0]), EventRelay(receiver_bus, stores[1])]
    for relay in relays:
        relay.start()
    try:
        for relay in relays:
            await asyncio.to_thread(relay.wait_listening, 30)
        for n in range(LATENCY_EVENTS):
            sender_bus.publish(log_event(n))
            await asyncio.sleep(0.01)
        deadline = time.monotonic() + 30
        while len(arrivals) < LATENCY_EVENTS and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
    finally:
        for relay in relays:
            await relay.close()
        for store in stores:
            store.close()
    assert len(arrivals) == LATENCY_EVENTS, f"{len(arrivals)} of {LATENCY_EVENTS} events arrived"
    ordered = sorted(arrivals)
    return [row("bus to another bus, median", statistics.median(ordered)),
            row("bus to another bus, p95", ordered[int(len(ordered) * 0.95)])]


async def thread_latency_rows() -> list[dict]:
    """An event published on a thread with its own loop, to a subscriber on this loop."""
    bus = EventBus()
    subscription = bus.subscribe("bench")
    arrivals: list[float] = []

    async def engine_side() -> None:
        for n in range(LATENCY_EVENTS):
            bus.publish(log_event(n))
            await asyncio.sleep(0.01)

    publisher = threading.Thread(target=asyncio.run, args=(engine_side(),))
    publisher.start()
    for _ in range(LATENCY_EVENTS):
        event = await asyncio.wait_for(subscription.get(), 30)
        arrivals.append(time.time() - event.ts)
    publisher.join()
    ordered = sorted(arrivals)
    return [row("engine thread to the web loop, median", statistics.median(ordered)),
            row("engine thread to the web loop, p95", ordered[int(len(ordered) * 0.95)])]


def identity_flow(count: int) -> dict:
    return {"summary": "identities", "value": {"modules": [
        {"id": f"i{n}", "value": {"type": "identity"}} for n in range(count)]}}


async def flow_seconds(engine: Engine) -> float:
    began = time.perf_counter()
    await engine.run(identity_flow(STEPS), {})
    return time.perf_counter() - began


async def flow_rows(url: str) -> list[dict]:
    # Two engines on one database, one relaying, run in turns: a busy machine slows both alike.
    plain, relaying = Engine(store=Store.open(url)), Engine(store=Store.open(url))
    samples: dict[Engine, list[float]] = {plain: [], relaying: []}
    try:
        async with EventRelay.for_engine(relaying) as relay:
            await asyncio.to_thread(relay.wait_listening, 30)
            for engine in (plain, relaying):
                await flow_seconds(engine)
            for _ in range(REPEATS):
                for engine in (plain, relaying):
                    samples[engine].append(await flow_seconds(engine))
    finally:
        for engine in (plain, relaying):
            await engine.close()
            engine.store.close()
    per_step = {engine: statistics.median(times) / STEPS for engine, times in samples.items()}
    return [row(f"{STEPS} identity steps on PostgreSQL, no relay, per step", per_step[plain]),
            row(f"{STEPS} identity steps on PostgreSQL, relay on, per step", per_step[relaying])]


def row(name: str, seconds: float) -> dict:
    return {"name": name, "us": round(seconds * 1e6, 2)}


async def all_rows(url: str) -> list[dict]:
    return [*await per_event_rows(url), *await latency_rows(url), *await thread_latency_rows(),
            *await flow_rows(url)]


def main() -> list[dict]:
    cluster = Cluster(find_bin_dir())
    try:
        cluster.start()
        return asyncio.run(all_rows(cluster.create_database("bench")))
    finally:
        cluster.stop()


def print_rows(rows: list[dict]) -> None:
    print(f"{'benchmark':58} {'median':>12}")
    for r in rows:
        print(f"{r['name']:58} {r['us']:>9.1f} µs")


if __name__ == "__main__":
    print_rows(main())
