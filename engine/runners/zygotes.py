"""The zygotes of a pool: the default one, and one per dependency lock in use.

A job whose step has a Python lock runs in a child of that lock's zygote, which has
the lock's packages first on `sys.path` and the job's imports loaded ahead (a `Flavour`),
so it keeps fork-per-job speed however heavy its imports. Lock zygotes are kept while
used: at most MILLRACE_DEPS_ZYGOTES of them (default 4; the least recently used idle one
is stopped to make room), and one idle for MILLRACE_DEPS_ZYGOTE_IDLE seconds (default
600) is stopped. A stopped one starts again on its lock's next job.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

DEFAULT = "zygote"
DEFAULT_MAX_FLAVOURED = 4
DEFAULT_IDLE_SECONDS = 600.0


@dataclass(frozen=True)
class Flavour:
    """What sets a lock's zygote apart from the default one."""

    name: str
    """Names its socket (`deps-<lock key>`)."""
    paths: tuple[str, ...]
    """Folders put first on its `sys.path`, as it sees them."""
    preload: tuple[str, ...] = field(default=(), compare=False)
    """Modules it imports before forking (best effort)."""


def _limits() -> tuple[int, float]:
    return (int(os.environ.get("MILLRACE_DEPS_ZYGOTES") or DEFAULT_MAX_FLAVOURED),
            float(os.environ.get("MILLRACE_DEPS_ZYGOTE_IDLE") or DEFAULT_IDLE_SECONDS))


class ZygoteSet:
    """Live zygotes by name; starts, reuses and stops them.

    `make(flavour)` builds a zygote (not started); `on_stopped(name)` is told when one is
    stopped for good (its lock's environment may then be let go).
    """

    def __init__(self, make: Callable[[Flavour | None], Any], on_stopped: Callable[[str], None] | None = None):
        self._make, self._on_stopped = make, on_stopped
        self._live: OrderedDict[str, Any] = OrderedDict()
        self._busy: dict[str, int] = {}
        self._used: dict[str, float] = {}
        self._starting: dict[str, asyncio.Lock] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None
        self._stopping: set[asyncio.Task] = set()
        self._ahead: dict[str, Any] = {}
        """Zygotes spawned ahead of their first job (see `ahead`), not started yet."""

    def names(self) -> list[str]:
        """The live zygotes' names, least recently used first."""
        return list(self._live)

    async def get(self, flavour: Flavour | None, stale: Any = None) -> Any:
        """The live zygote of `flavour` (None: the default one), started if needed or `stale`."""
        name = DEFAULT if flavour is None else flavour.name
        async with self._starting.setdefault(name, asyncio.Lock()):
            current = self._live.get(name)
            if current is not None and (current is stale or not current.alive):
                await current.stop()
                self._live.pop(name, None)
            if name not in self._live:
                self._live[name] = await self._start(flavour)
            self._live.move_to_end(name)
            self._used[name] = time.monotonic()
        if flavour is not None:
            await self._make_room(keep=name)
        return self._live[name]

    def ahead(self, flavour: Flavour | None) -> None:
        """Spawn the zygote of `flavour` now, without an event loop: it boots while the
        process does other work, and its first `get` only waits for what is left."""
        name = DEFAULT if flavour is None else flavour.name
        if name not in self._ahead and name not in self._live:
            zygote = self._make(flavour)
            zygote.spawn()
            self._ahead[name] = zygote

    async def _start(self, flavour: Flavour | None) -> Any:
        """A started zygote of `flavour`. One whose imports ahead kill it (a package that
        crashes the interpreter when imported) starts again without them: the crash is
        then the job's alone."""
        zygote = self._ahead.pop(DEFAULT if flavour is None else flavour.name, None) or self._make(flavour)
        try:
            await zygote.start()
        except RuntimeError:
            if flavour is None or not flavour.preload:
                raise
            zygote = self._make(dataclasses.replace(flavour, preload=()))
            await zygote.start()
        return zygote

    def busy(self, zygote: Any, delta: int) -> None:
        """Count a job starting (+1) or ending (-1) on `zygote`."""
        name = next((n for n, z in self._live.items() if z is zygote), None)
        if name is None:
            return
        self._busy[name] = self._busy.get(name, 0) + delta
        self._used[name] = time.monotonic()
        if self._busy[name] <= 0 and name != DEFAULT:
            self._arm()

    async def _make_room(self, keep: str) -> None:
        most, _idle = _limits()
        flavoured = [n for n in self._live if n != DEFAULT]
        for name in flavoured:
            if len([n for n in self._live if n != DEFAULT]) <= most:
                return
            if name != keep and self._busy.get(name, 0) <= 0:
                await self._stop(name)

    def _arm(self) -> None:
        """Look for idle lock zygotes once the idle time may have passed."""
        _most, idle = _limits()
        loop = asyncio.get_running_loop()
        if self._timer is None or self._timer_loop is not loop:  # a pool may outlive its first loop
            self._timer, self._timer_loop = loop.call_later(idle + 0.5, self._sweep), loop

    def _sweep(self) -> None:
        self._timer = None
        _most, idle = _limits()
        now = time.monotonic()
        waiting = False
        for name in [n for n in self._live if n != DEFAULT and self._busy.get(n, 0) <= 0]:
            if now - self._used.get(name, now) >= idle:
                task = asyncio.get_running_loop().create_task(self._stop(name))
                self._stopping.add(task)
                task.add_done_callback(self._stopping.discard)
            else:
                waiting = True
        if waiting:
            self._arm()

    async def _stop(self, name: str) -> None:
        zygote = self._live.pop(name, None)
        self._busy.pop(name, None)
        self._used.pop(name, None)
        if zygote is not None:
            await zygote.stop()
            if self._on_stopped is not None:
                self._on_stopped(name)

    async def close(self) -> None:
        """Stop every zygote."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._stopping:
            await asyncio.gather(*self._stopping, return_exceptions=True)
        for name in list(self._live):
            await self._stop(name)
        for zygote in self._ahead.values():
            await zygote.stop()
        self._ahead.clear()
        self._starting.clear()

