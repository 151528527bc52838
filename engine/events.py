"""Everything a run does, as events: in-process publish/subscribe.

The executor publishes; the CLI, the app and tests subscribe. Subscribers get their own
bounded queue so a slow reader never blocks a run (when full, the oldest event is
dropped and `dropped` counts it).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from typing import Any, Callable


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
    """A subscriber's queue of events; iterate it with `async for`."""

    def __init__(self, bus: "EventBus", run_id: str | None, maxsize: int):
        self._bus, self.run_id = bus, run_id
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.dropped = 0

    def put(self, event: Event) -> None:
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


class EventBus:
    """In-process fan-out of events to subscriptions and plain callbacks."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._callbacks: list[Callable[[Event], None]] = []

    def subscribe(self, run_id: str | None = None, *, maxsize: int = 10_000) -> Subscription:
        """Subscribe to one run's events (or every run's when run_id is None)."""
        sub = Subscription(self, run_id, maxsize)
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def add_listener(self, callback: Callable[[Event], None]) -> None:
        """Call `callback(event)` synchronously for every event (keep it fast)."""
        self._callbacks.append(callback)

    def remove_listener(self, callback: Callable[[Event], None]) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def publish(self, event: Event) -> None:
        for callback in list(self._callbacks):
            callback(event)
        for sub in list(self._subs):
            if sub.run_id is None or sub.run_id == event.run_id:
                sub.put(event)
