"""One clock for executor, worker and scheduler, so tests can fake time."""

from __future__ import annotations

import asyncio
import time


class Clock:
    """Real time: wall clock for timestamps, asyncio for waiting."""

    def now(self) -> float:
        """Seconds since the epoch."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` (no-op when not positive)."""
        if seconds > 0:
            await asyncio.sleep(seconds)


class FakeClock(Clock):
    """A clock that only moves when waited on or advanced; sleeping is instant.

    `slept` records every wait so tests can assert retry and sleep delays.
    """

    def __init__(self, start: float = 1_700_000_000.0):
        self._now = start
        self.slept: list[float] = []

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.slept.append(seconds)
            self._now += seconds
        await asyncio.sleep(0)
