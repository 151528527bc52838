"""The content-addressed cache of dependency environments, one folder per lock.

    <root>/python/<key>/   the packages of a Python lock (a --target folder)
    <root>/npm/<key>/      package.json, bun.lock and node_modules of an npm lock
    <root>/building/       installs in progress, renamed into place when complete
    <root>/locks/<key>     one lock file per environment (flock)
    <root>/uv, <root>/bun  the tools' download caches

An environment is built in `building/` and renamed into place in one step, so an
interrupted install never leaves a half environment where a run would use it. Installs
of one lock take its lock file exclusively (two runs needing a new lock install it
once, across processes); a process using an environment holds the file shared, and
`prune` removes only what nobody holds. The root is MILLRACE_DEPS_DIR, by default
~/.cache/millrace/deps: each machine (each `python -m engine worker`) has its own.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Awaitable, Callable

from engine.deps.locks import NPM, PYTHON, Lock
from engine.errors import DependencyError

LOCK_POLL = 0.05
MARK = ".millrace-lock"
"""The lock text, written into an environment before it is put in place; its mtime is the last use."""
TOUCH_EVERY = 3600.0
KINDS = (PYTHON, NPM)


def default_root() -> Path:
    """MILLRACE_DEPS_DIR, else ~/.cache/millrace/deps."""
    configured = os.environ.get("MILLRACE_DEPS_DIR", "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "millrace" / "deps"


class Lease:
    """A hold on one environment: `prune` leaves it alone until every lease is released.

    The leases of one key share one shared flock (counted): a job of a lock whose zygote
    already holds it costs no system call.
    """

    def __init__(self, held: dict[str, list[int]], key: str):
        self._held, self._key = held, key
        self._released = False

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        entry = self._held[self._key]
        entry[1] -= 1
        if entry[1] == 0:
            del self._held[self._key]
            os.close(entry[0])  # closing drops the flock


class DepsCache:
    """Environments by lock key under one root folder."""

    def __init__(self, root: Path | None = None):
        self.root = (root or default_root()).resolve()
        self.problem: str | None = None
        """Why no environment can be made here (the folder cannot be created), or None."""
        try:
            for name in (*KINDS, "building", "locks", "uv", "bun"):
                (self.root / name).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.problem = (f"the dependency cache {self.root} cannot be created ({exc.strerror}): set "
                            "MILLRACE_DEPS_DIR to a writable folder")
        self._installing: dict[str, asyncio.Lock] = {}
        self._touched: dict[str, float] = {}
        self._held: dict[str, list[int]] = {}
        """Key → [fd holding its shared flock, leases counted on it]."""

    def env_dir(self, lock: Lock) -> Path:
        """Where the lock's environment is (whether it is there yet or not)."""
        return self.root / lock.kind / lock.key

    def ready(self, lock: Lock) -> bool:
        """Whether the lock's environment is complete; known without looking while it is held."""
        return lock.key in self._held or (self.env_dir(lock) / MARK).exists()

    async def ensure(self, lock: Lock, build: Callable[[Path], Awaitable[None]]) -> Path:
        """The lock's environment, built by `build(empty folder)` unless it is there already."""
        final = self.env_dir(lock)
        if self.ready(lock):
            return final
        if self.problem is not None:
            raise DependencyError(self.problem)
        guard = self._installing.setdefault(lock.key, asyncio.Lock())
        async with guard:
            # Users of a finished environment hold it shared: stop waiting once it is there.
            fd = await self._flock(lock.key, fcntl.LOCK_EX, given_up=lambda: self.ready(lock))
            if fd is None:
                return final
            try:
                if not self.ready(lock):
                    await self._build(lock, final, build)
            finally:
                os.close(fd)
        return final

    async def _build(self, lock: Lock, final: Path, build: Callable[[Path], Awaitable[None]]) -> None:
        workspace = self.root / "building" / f"{lock.kind}-{lock.key}-{uuid.uuid4().hex[:8]}"
        workspace.mkdir()
        try:
            await build(workspace)
            (workspace / MARK).write_text(lock.text)
            if final.exists():  # a leftover without its mark: never complete
                shutil.rmtree(final)
            os.rename(workspace, final)
        finally:
            shutil.rmtree(workspace, ignore_errors=True)

    async def lease(self, lock: Lock) -> Lease:
        """Hold the lock's environment (shared) while it is used; note the use for `prune`."""
        entry = self._held.get(lock.key)
        if entry is None:
            fd = await self._flock(lock.key, fcntl.LOCK_SH)
            entry = self._held.setdefault(lock.key, [fd, 0])
            if entry[0] != fd:  # another lease was taken while this one waited
                os.close(fd)
        entry[1] += 1
        lease = Lease(self._held, lock.key)
        now = time.time()
        if now - self._touched.get(lock.key, 0.0) > TOUCH_EVERY:
            self._touched[lock.key] = now
            try:
                os.utime(self.env_dir(lock) / MARK)
            except OSError:
                pass
        return lease

    async def _flock(self, key: str, mode: int, given_up: Callable[[], bool] = lambda: False) -> int | None:
        """The key's lock file, locked in `mode`; waits (without blocking the loop) while others
        hold it, unless `given_up()` says the wait is pointless (then None)."""
        fd = os.open(self.root / "locks" / key, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(fd, mode | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    if given_up():
                        os.close(fd)
                        return None
                    await asyncio.sleep(LOCK_POLL)
        except BaseException:
            os.close(fd)
            raise

    def prune(self, older_than: float | None = None) -> list[str]:
        """Remove environments nobody holds (and, given `older_than` seconds, only those
        unused that long) and interrupted installs; returns what was removed."""
        removed = []
        cutoff = time.time() - older_than if older_than is not None else None
        for kind in KINDS:
            for env in sorted((self.root / kind).iterdir()):
                mark = env / MARK
                if cutoff is not None and mark.exists() and mark.stat().st_mtime > cutoff:
                    continue
                if self._remove_unheld(env.name, env):
                    removed.append(f"{kind}/{env.name}")
        for leftover in sorted((self.root / "building").iterdir()):
            key = leftover.name.split("-")[1] if leftover.name.count("-") >= 2 else ""
            if self._remove_unheld(key, leftover):
                removed.append(f"building/{leftover.name}")
        return removed

    def _remove_unheld(self, key: str, folder: Path) -> bool:
        fd = os.open(self.root / "locks" / (key or "unknown"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            trash = self.root / "building" / f"trash-{uuid.uuid4().hex[:8]}"
            os.rename(folder, trash)  # out of sight at once, then deleted
            shutil.rmtree(trash, ignore_errors=True)
            return True
        finally:
            os.close(fd)
