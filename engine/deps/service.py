"""Dependencies: a script's lock when it is saved, its environment before it runs.

On save (`lock_for`): the script's imports give its requirements; a lock given with it
(a flow step's `lock`, a `*.script.lock` of `wmill sync`) is kept while it pins them
all, else a new one is resolved. Before a run (`prepare`): the step's lock (resolved
now for a script never saved, such as a preview or a flow file run from the CLI) is
installed once into the cache, with progress in the step's log, and the runner is told
where; a step that needs nothing costs nothing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from engine.deps import npm_env, python_env
from engine.deps.cache import DepsCache, Lease
from engine.deps.index import IndexConfig, machine_index
from engine.deps.locks import NPM, PYTHON, Lock, is_npm_lock, npm_covers, python_covers
from engine.deps.pyimports import Fetch, python_needs
from engine.deps.tsimports import npm_dependencies
from engine.runners.job import LogCallback, LogLine, ScriptJob
from engine.runners.signature import TS_LANGUAGES

LOG_PREFIX = "[dependencies] "
REMEMBERED = 2048
"""Locks (and resolutions of unsaved scripts) kept in memory before starting afresh."""


@dataclass
class Prepared:
    """Where a job's dependencies are (host paths), held until the job ends."""

    python_env: Path | None = None
    """The Python lock's packages; None: the default zygote serves the job."""
    npm_env: Path | None = None
    """The npm lock's folder (its node_modules is the job's)."""
    preload: tuple[str, ...] = ()
    """Modules the lock's zygote imports ahead (the job's own imports)."""
    lease: Lease | None = None

    def release(self) -> None:
        if self.lease is not None:
            self.lease.release()
            self.lease = None


class Dependencies:
    """Resolves locks and installs them into a cache; one per runner pool."""

    def __init__(self, root: Path | None = None, index: IndexConfig | None = None):
        self.cache = DepsCache(root)
        self._index = index
        self._resolved: dict[tuple[str, tuple], Lock] = {}
        self._locks: dict[tuple[str, str], Lock] = {}

    @property
    def index(self) -> IndexConfig:
        return self._index if self._index is not None else machine_index()

    def lock_for(self, language: str, content: str, *, lock: str | None = None, path: str | None = None,
                 fetch: Fetch | None = None) -> str | None:
        """The lock to save with a script: `lock` while it pins everything the script
        imports, else a new one; None for a script that needs nothing (or not Python/TS).

        Raises:
            DependencyError: the imports cannot be resolved (names the package, quotes the resolver).
        """
        if language == "python3":
            needs = python_needs(content, path=path, fetch=fetch)
            given = self.lock(PYTHON, lock)
            if given is not None and python_covers(given, needs.requirements):
                return lock
            if not needs.requirements:
                return lock or None
            return python_env.resolve(needs.requirements, self.index, self.cache.root / "uv").text
        if language in TS_LANGUAGES:
            wanted = npm_dependencies(content)
            given = self.lock(NPM, lock)
            if given is not None and npm_covers(given, wanted):
                return lock
            if not wanted:
                return lock or None
            return npm_env.resolve(wanted, self.cache.root / "bun").text
        return lock

    def covers(self, language: str, content: str, lock: str | None, *, path: str | None = None) -> bool:
        """Whether `lock` pins everything `content` imports (nothing is resolved: no network).
        Workspace scripts it imports are not followed."""
        if language == "python3":
            given = self.lock(PYTHON, lock)
            requirements = python_needs(content, path=path).requirements
            return not requirements if given is None else python_covers(given, requirements)
        if language in TS_LANGUAGES:
            given, wanted = self.lock(NPM, lock), npm_dependencies(content)
            return not wanted if given is None else npm_covers(given, wanted)
        return True

    def lock(self, kind: str, text: str | None) -> Lock | None:
        """The Lock of a lock text (made once per text), or None for no text or a lock of
        another tool (a `deno.lock`: the step's imports are resolved instead)."""
        if not text or not text.strip() or (kind == NPM and not is_npm_lock(text)):
            return None
        found = self._locks.get((kind, text))
        if found is None:
            if len(self._locks) >= REMEMBERED:
                self._locks.clear()
            found = self._locks[(kind, text)] = Lock(kind, text)
        return found

    async def prepare(self, job: ScriptJob, on_log: LogCallback | None) -> Prepared:
        """Install the job's lock if it is new here, and hold its environment for the job.

        Raises:
            DependencyError: the lock cannot be resolved or installed.
        """
        if job.language == "python3":
            needs = python_needs(job.content, path=job.path, fetch=job.modules.get)
            lock = self.lock(PYTHON, job.lock) or await self._resolve(PYTHON, needs.requirements, on_log)
            if lock is None or lock.empty:
                return Prepared()
            folder = await self._ensure(lock, on_log)
            return Prepared(python_env=folder, preload=needs.imports, lease=await self.cache.lease(lock))
        if job.language in TS_LANGUAGES:
            wanted = npm_dependencies(job.content)
            lock = self.lock(NPM, job.lock) or await self._resolve(NPM, tuple(sorted(wanted.items())), on_log)
            if lock is None or lock.empty:
                return Prepared()
            folder = await self._ensure(lock, on_log)
            return Prepared(npm_env=folder, lease=await self.cache.lease(lock))
        return Prepared()

    async def _resolve(self, kind: str, wanted: tuple, on_log: LogCallback | None) -> Lock | None:
        """A lock for a script run without one: resolved once per process for the same needs."""
        if not wanted:
            return None
        found = self._resolved.get((kind, wanted))
        if found is None:
            names = ", ".join(wanted) if kind == PYTHON else ", ".join(f"{n}@{v}" for n, v in wanted)
            _say(on_log, f"no lock saved with this script: resolving {names}")
            if kind == PYTHON:
                text = (await asyncio.to_thread(python_env.resolve, wanted, self.index, self.cache.root / "uv")).text
            else:
                text = (await asyncio.to_thread(npm_env.resolve, dict(wanted), self.cache.root / "bun")).text
            if len(self._resolved) >= REMEMBERED:
                self._resolved.clear()
            found = self._resolved[(kind, wanted)] = self.lock(kind, text)
        return found

    async def _ensure(self, lock: Lock, on_log: LogCallback | None) -> Path:
        if self.cache.ready(lock):
            return self.cache.env_dir(lock)
        started = time.perf_counter()

        async def build(target: Path) -> None:
            _say(on_log, f"installing {len(lock.pinned)} package(s) of lock {lock.key[:12]}: {', '.join(lock.pinned)}")
            progress = (lambda line: _say(on_log, line)) if on_log is not None else None
            if lock.kind == PYTHON:
                await python_env.install(lock, target, self.index, self.cache.root / "uv", progress)
            else:
                await npm_env.install(lock, target, self.cache.root / "bun", progress)
            _say(on_log, f"installed in {time.perf_counter() - started:.1f} s")

        return await self.cache.ensure(lock, build)


def _say(on_log: LogCallback | None, text: str) -> None:
    if on_log is not None:
        on_log(LogLine(ts=time.time(), stream="stderr", line=LOG_PREFIX + text))

