"""Running a suspect step alone on its worker, so that a lost worker is blamed on the
right step.

When a worker is lost, every step in flight on it counts a loss (losses.py): the step
that took the worker down, and the steps of other runs that happened to run beside
it. Runs taken over together tend to be claimed together again, so an innocent step
would be counted at every loss with the guilty one and fail with it. So a step whose
worker was lost before (a suspect) runs alone: its worker claims nothing more and
starts no other step, waits (at most `patience` seconds) for the steps of other runs
that are in flight to end, then runs the suspect. If the worker is lost again, the
suspect is the only step in flight, and the only one counted.

Only script, identity and suspect steps take turns: a loop or branch around them does
nothing risky itself, and holding it back would hold back the suspect inside it. The
steps of the suspect's own run tree (its parts, its parent) are not waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator


class Solo:
    """The turns of one worker's steps: many at once, or one suspect alone.

    Args:
        patience: seconds a suspect waits for the other runs' steps in flight to end
            before it runs anyway.
    """

    def __init__(self, patience: float):
        self.patience = patience
        self._lock = asyncio.Lock()
        self._pending: Counter[str] = Counter()
        """The run trees of the suspects that run or wait to."""
        self._pending_changed = asyncio.Event()
        self._alone_tree: str | None = None
        """The run tree of the suspect running now."""
        self._in_flight: Counter[str] = Counter()
        self._ended = asyncio.Event()

    @property
    def pending(self) -> bool:
        """Whether a suspect runs or waits to: the worker claims nothing meanwhile."""
        return bool(self._pending)

    @contextlib.asynccontextmanager
    async def step(self, tree: str) -> AsyncIterator[None]:
        """A step of run tree `tree` runs: first wait while a suspect of another tree
        runs or waits to (the steps of the tree running its suspect go on: the
        suspect may be a loop waiting for them)."""
        await self.start_step(tree)
        try:
            yield
        finally:
            self.end_step(tree)

    async def start_step(self, tree: str) -> None:
        """`step` without its context manager: wait for the turn, then count the step in
        flight; `end_step` must follow."""
        while self._pending and tree != self._alone_tree and any(other != tree for other in self._pending):
            self._pending_changed.clear()
            await self._pending_changed.wait()
        self._in_flight[tree] += 1

    def end_step(self, tree: str) -> None:
        self._in_flight[tree] -= 1
        if not self._in_flight[tree]:
            del self._in_flight[tree]
        self._ended.set()

    @contextlib.asynccontextmanager
    async def alone(self, tree: str) -> AsyncIterator[None]:
        """A suspect step of run tree `tree` runs, with no step of another run in flight."""
        if tree == self._alone_tree:
            yield  # its run tree's turn already (a loop around it is the suspect)
            return
        self._pending[tree] += 1
        self._pending_changed.set()
        try:
            async with self._lock:
                await self._others_ended(tree)
                self._alone_tree = tree
                self._pending_changed.set()
                try:
                    yield
                finally:
                    self._alone_tree = None
        finally:
            self._pending[tree] -= 1
            if not self._pending[tree]:
                del self._pending[tree]
            self._pending_changed.set()

    async def _others_ended(self, tree: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.patience
        while any(other != tree for other in self._in_flight) and loop.time() < deadline:
            self._ended.clear()
            try:
                await asyncio.wait_for(self._ended.wait(), deadline - loop.time())
            except asyncio.TimeoutError:
                return
