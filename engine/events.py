"""Everything a run does, as events: in-process publish/subscribe, across threads.

The executor publishes; the CLI, the app and tests subscribe. Subscribers get their own
bounded queue so a slow reader never blocks a run (when full, the oldest event is
dropped and `dropped` counts it).

Publisher and subscriber may live on different threads, each with its event loop (the
app runs flows on a thread of their own and serves pages on the web server's loop). A
subscription belongs to the loop it was made on; an event published from elsewhere is
handed over to that loop (`call_soon_threadsafe`), never by touching its queue from the
wrong thread. Hand-overs are gathered: the events of `HANDOVER_SECONDS` go together,
as waking the other thread for each would cost the publisher a GIL switch per event
(measured: a loop of identity steps ran 60% slower with a page watching it).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

HANDOVER_SECONDS = 0.01
"""How long events for a subscriber on another thread gather before they are handed over."""


@dataclass
class Event:
    """One thing that happened in a run.

    kind is one of: run_queued, run_started, run_suspended, run_resumed, run_finished,
    step_started, step_finished, step_retrying, step_log, approval.
    """

    kind: str
    run_id: str
    ts: float
    step_id: str | None = None
    key: str | None = None
    iteration: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


class Subscription:
    """A subscriber's queue of events; iterate it with `async for` on the loop that made it."""

    def __init__(self, bus: "EventBus", run_id: str | None, maxsize: int, kinds: frozenset[str] | None = None):
        self._bus, self.run_id, self.kinds = bus, run_id, kinds
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.dropped = 0
        self._loop = _running_loop()
        self._inbox: deque[Event] = deque()
        self._lock = threading.Lock()
        self._handing_over = False

    def put(self, event: Event) -> None:
        """Add an event, from any thread."""
        if self._loop is None or _running_loop() is self._loop:
            self._put_here(event)
            return
        with self._lock:
            if len(self._inbox) >= self.queue.maxsize > 0:
                self._inbox.popleft()
                self.dropped += 1
            self._inbox.append(event)
            if self._handing_over:
                return  # the hand-over already scheduled takes this event too
            self._handing_over = True
        try:
            self._loop.call_soon_threadsafe(self._loop.call_later, HANDOVER_SECONDS, self._take_inbox)
        except RuntimeError:
            pass  # that loop is closed: nobody reads this subscription any more

    def _take_inbox(self) -> None:
        with self._lock:
            events, self._handing_over = list(self._inbox), False
            self._inbox.clear()
        for event in events:
            self._put_here(event)

    def _put_here(self, event: Event) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    async def get(self) -> Event:
        return await self.queue.get()

    def close(self) -> None:
        self._bus.unsubscribe(self)

    def __aiter__(self) -> "Subscription":
        return self

    async def __anext__(self) -> Event:
        return await self.queue.get()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class EventBus:
    """In-process fan-out of events to subscriptions and plain callbacks, from any thread.

    The lists of subscribers are replaced, never changed in place, so a publish on one
    thread and a subscribe on another never see a list half changed.
    """

    def __init__(self) -> None:
        self._subs: tuple[Subscription, ...] = ()
        self._callbacks: tuple[Callable[[Event], None], ...] = ()
        self._lock = threading.Lock()

    def subscribe(self, run_id: str | None = None, *, maxsize: int = 10_000,
                  kinds: frozenset[str] | None = None) -> Subscription:
        """Subscribe to one run's events (or every run's when run_id is None), of `kinds`
        only when given; read the subscription on the event loop that called this."""
        sub = Subscription(self, run_id, maxsize, kinds)
        with self._lock:
            self._subs = (*self._subs, sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs = tuple(s for s in self._subs if s is not sub)

    def add_listener(self, callback: Callable[[Event], None]) -> None:
        """Call `callback(event)` for every event, on the publishing thread (keep it fast
        and thread-safe)."""
        with self._lock:
            self._callbacks = (*self._callbacks, callback)

    def remove_listener(self, callback: Callable[[Event], None]) -> None:
        with self._lock:
            self._callbacks = tuple(c for c in self._callbacks if c != callback)

    def publish(self, event: Event) -> None:
        for callback in self._callbacks:
            callback(event)
        for sub in self._subs:
            if (sub.run_id is None or sub.run_id == event.run_id) and (sub.kinds is None or event.kind in sub.kinds):
                sub.put(event)
