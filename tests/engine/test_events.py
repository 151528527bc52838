"""The EventBus across threads: a subscription is fed on the loop that made it, whoever publishes."""

from __future__ import annotations

import asyncio
import threading
import time

from engine import Event, EventBus
from engine.events import HANDOVER_SECONDS, Subscription


def event(n: int, run_id: str = "r") -> Event:
    return Event(kind="step_log", run_id=run_id, ts=float(n), data={"line": str(n)})


def publish_from_a_thread(bus: EventBus, events: list[Event]) -> None:
    """Publish on another thread that runs an event loop of its own (as the app's engine does)."""
    async def publish() -> None:
        for item in events:
            bus.publish(item)

    thread = threading.Thread(target=asyncio.run, args=(publish(),))
    thread.start()
    thread.join()


def test_an_event_published_on_another_thread_wakes_the_subscriber_waiting_on_its_loop():
    async def main() -> tuple[list[str], float]:
        bus = EventBus()
        subscription = bus.subscribe("r")
        waiting = asyncio.ensure_future(subscription.get())
        await asyncio.sleep(0.05)  # the subscriber waits, its loop sleeps
        began = time.monotonic()
        thread = threading.Thread(target=publish_from_a_thread,
                                  args=(bus, [event(9, run_id="other")] + [event(n) for n in range(3)]))
        thread.start()
        first = await asyncio.wait_for(waiting, 5)
        woke = time.monotonic() - began
        thread.join()
        rest = [(await asyncio.wait_for(subscription.get(), 5)).data["line"] for _ in range(2)]
        assert subscription.queue.empty()  # the other run's event was not for it
        return [first.data["line"], *rest], woke

    lines, woke = asyncio.run(main())
    assert lines == ["0", "1", "2"]
    assert woke < 1.0


def test_a_burst_from_another_thread_wakes_the_subscriber_loop_once(monkeypatch):
    handovers = []
    original = Subscription._take_inbox

    def counted(self: Subscription) -> None:
        handovers.append(threading.get_ident())
        original(self)

    monkeypatch.setattr(Subscription, "_take_inbox", counted)

    async def main() -> int:
        bus = EventBus()
        subscription = bus.subscribe()
        publish_from_a_thread(bus, [event(n) for n in range(1000)])  # this loop is busy meanwhile
        await asyncio.sleep(HANDOVER_SECONDS * 3)
        return subscription.queue.qsize()

    assert asyncio.run(main()) == 1000
    assert len(handovers) == 1


def test_a_steady_stream_from_another_thread_is_handed_over_in_batches(monkeypatch):
    handovers = []
    original = Subscription._take_inbox
    monkeypatch.setattr(Subscription, "_take_inbox", lambda self: (handovers.append(1), original(self)))

    async def engine_side(bus: EventBus) -> float:
        began = time.monotonic()
        for n in range(200):  # an event every half millisecond or so, as a loop of instant steps sends them
            bus.publish(event(n))
            time.sleep(0.0005)
        return time.monotonic() - began

    async def main() -> tuple[int, float]:
        bus = EventBus()
        subscription = bus.subscribe()
        took = await asyncio.to_thread(asyncio.run, engine_side(bus))
        await asyncio.sleep(HANDOVER_SECONDS * 3)
        return subscription.queue.qsize(), took

    received, took = asyncio.run(main())
    assert received == 200
    assert len(handovers) <= took / HANDOVER_SECONDS + 2  # one per window, not one per event
    assert len(handovers) < 200 / 4


def test_a_full_subscription_fed_from_another_thread_keeps_the_newest_and_counts_the_dropped():
    async def main() -> tuple[list[str], int]:
        bus = EventBus()
        subscription = bus.subscribe(maxsize=3)
        publish_from_a_thread(bus, [event(n) for n in range(10)])
        await asyncio.sleep(HANDOVER_SECONDS * 3)
        return [subscription.queue.get_nowait().data["line"] for _ in range(3)], subscription.dropped

    assert asyncio.run(main()) == (["7", "8", "9"], 7)


def test_publishing_to_a_subscriber_whose_loop_has_ended_neither_fails_nor_grows_without_bound():
    async def subscribe(bus: EventBus) -> Subscription:
        return bus.subscribe(maxsize=5)

    bus = EventBus()
    subscription = asyncio.run(subscribe(bus))  # that loop is closed now
    publish_from_a_thread(bus, [event(n) for n in range(10)])
    bus.publish(event(10))  # and from no loop at all
    assert subscription.queue.empty() and len(subscription._inbox) == 5


def test_listeners_are_called_on_the_publishing_thread():
    bus = EventBus()
    threads: list[int] = []
    bus.add_listener(lambda _: threads.append(threading.get_ident()))
    publish_from_a_thread(bus, [event(1)])
    bus.publish(event(2))
    assert threads[0] != threading.get_ident() and threads[1] == threading.get_ident()


def test_a_subscription_to_some_kinds_gets_only_those():
    async def main() -> list[str]:
        bus = EventBus()
        subscription = bus.subscribe("r", kinds=frozenset({"run_finished"}))
        for kind in ("run_started", "step_started", "step_finished", "run_finished"):
            bus.publish(Event(kind=kind, run_id="r", ts=0.0))
        return [subscription.queue.get_nowait().kind for _ in range(subscription.queue.qsize())]

    assert asyncio.run(main()) == ["run_finished"]
