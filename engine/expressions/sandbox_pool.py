"""Warm helper processes, shared by every Evaluator with the same limits in this process.

Shared because Evaluators are cheap to make (checking a flow makes one) and a
helper costs a process start (50-150 ms); at most `SIZE` run JS at once.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from engine.expressions.sandbox import Limits
from engine.expressions.sandbox_process import SandboxProcess

SIZE = 4
"""Helper processes a pool may run at once; more callers wait for one to be free."""
_shared: dict[tuple[int, Limits], SandboxPool] = {}
_shared_lock = threading.Lock()


def shared_pool(limits: Limits) -> SandboxPool:
    """The pool of this process for `limits`, made on first use.

    Keyed by process id too: a forked child must not write to its parent's helpers.
    """
    key = (os.getpid(), limits)
    with _shared_lock:
        pool = _shared.get(key)
        if pool is None:
            pool = _shared[key] = SandboxPool(limits, SIZE)
        return pool


class SandboxPool:
    """At most `size` helper processes, started on first need and kept warm.

    A caller borrows one for a few requests and gives it back; one that was
    killed or died is dropped, and the next caller that needs one starts a
    fresh one. Callers beyond `size` wait for one to be given back.
    """

    def __init__(self, limits: Limits, size: int):
        if size < 1:
            raise ValueError("a sandbox pool needs room for at least one process")
        self._limits, self._size = limits, size
        self._idle: list[SandboxProcess] = []
        self._all: set[SandboxProcess] = set()
        self._starting = 0
        self._ready = threading.Condition()
        # Helpers end with the pool or at exit; a forked child of this process
        # inherits the pool but must not stop its parent's helpers.
        self._finalizer = weakref.finalize(self, _close_all, self._all, os.getpid())

    @contextmanager
    def borrow(self) -> Iterator[SandboxProcess]:
        """A helper for the caller alone until the block ends."""
        process = self._take()
        try:
            yield process
        finally:
            self._give_back(process)

    def close(self) -> None:
        """Stop every helper, busy ones included."""
        self._finalizer()

    def _take(self) -> SandboxProcess:
        with self._ready:
            while not self._idle and len(self._all) + self._starting >= self._size:
                self._ready.wait()
            if self._idle:
                return self._idle.pop()
            self._starting += 1
        try:
            process = SandboxProcess(self._limits)
        except BaseException:
            with self._ready:
                self._starting -= 1
                self._ready.notify()
            raise
        with self._ready:
            self._starting -= 1
            self._all.add(process)
        return process

    def _give_back(self, process: SandboxProcess) -> None:
        with self._ready:
            if process.alive and self._finalizer.alive:
                self._idle.append(process)
            else:
                self._all.discard(process)
            self._ready.notify()
        if not process.alive or not self._finalizer.alive:
            process.close()


def _close_all(processes: set[SandboxProcess], owner: int) -> None:
    if os.getpid() != owner:
        return
    for process in list(processes):
        process.close()
    processes.clear()
