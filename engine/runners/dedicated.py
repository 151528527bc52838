"""Dedicated mode: a warm sandboxed process per script version, whose `main` is called again
for each job of that version, so a job costs a round trip on a socket instead of a fork.

A job marked `dedicated` (its script's or flow's `dedicated_worker: true`) runs in the
worker of its *version*: workspace, language, a hash of its text (with its
path and the workspace scripts it imports), its dependency lock, memory cap and working
folder. Workers are never shared between versions, so module state seen by a call is
only ever that of earlier calls of the same script text in the same workspace.

Calls to one worker are one at a time: a job arriving while its worker is busy waits its
turn. One process per version keeps "module state persists between calls" meaning one
thing, and a queued call costs a fraction of a millisecond against a fork's milliseconds;
a script whose parallel calls run long should not be dedicated.

A call that times out, crashes or runs out of memory fails that job alone and ends the
worker; the next job starts a fresh one. A worker whose resident memory grew past
MILLRACE_DEDICATED_MAX_RSS_MB (default 1024) is ended after its call; one idle for
MILLRACE_DEDICATED_IDLE seconds (default 300) is ended; at most MILLRACE_DEDICATED_WORKERS
(default 8) live at once, the least recently used idle one making room, and when every
one is busy the job runs the ordinary way (a forked process of its own).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections import OrderedDict

from engine.runners.dedicated_worker import DedicatedWorker, WorkerGone
from engine.runners.job import LogCallback, ScriptJob, ScriptOutcome, default_timeout, failure
from engine.runners.python import launch_of, outcome_of
from engine.runners.zygote import ZygoteJobs
from engine.runners.zygotes import Flavour

DEFAULT_MAX_WORKERS = 8
DEFAULT_IDLE_SECONDS = 300.0
DEFAULT_MAX_RSS_MB = 1024.0
DEDICATED_LANGUAGES = frozenset({"python3"})
"""Languages that run dedicated; a job of another language marked dedicated runs the ordinary way."""


def _setting(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def version_key(job: ScriptJob, env: dict[str, str], flavour: Flavour | None) -> str:
    """What names a script version's worker: two jobs share a worker only when all of it matches."""
    parts = [env.get("WM_WORKSPACE", ""), job.language, job.content, job.path, sorted(job.modules.items()),
             job.lock, flavour.name if flavour else None, job.memory_limit_mb, job.cwd]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


class DedicatedWorkers:
    """The pool's dedicated workers by version key, least recently used first."""

    def __init__(self, jobs: ZygoteJobs, max_result_bytes: int):
        self._jobs, self._max_result_bytes = jobs, max_result_bytes
        self._workers: OrderedDict[str, DedicatedWorker] = OrderedDict()
        self._turns: dict[str, asyncio.Lock] = {}
        """One lock per version ever run: calls to a worker take turns (kept, as a waiting call holds it)."""
        self._used: dict[str, float] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    def __len__(self) -> int:
        return len(self._workers)

    async def run(self, job: ScriptJob, on_log: LogCallback | None, env: dict[str, str],
                  flavour: Flavour | None) -> ScriptOutcome | None:
        """Run `job` in its version's worker; None when it cannot run dedicated (its language,
        or every worker busy at the cap): the caller runs it the ordinary way."""
        if job.language not in DEDICATED_LANGUAGES:
            return None
        key = version_key(job, env, flavour)
        turn = self._turns.setdefault(key, asyncio.Lock())
        async with turn:
            worker = await self._worker(key, job, env, flavour)
            if worker is None:
                return None
            if isinstance(worker, ScriptOutcome):
                return worker
            ended = await worker.call({"entry": job.entry, "args": job.args, "env": env}, job.timeout or default_timeout(), on_log)
            self._used[key] = time.monotonic()
            if not worker.alive or worker.rss_mb() > _setting("MILLRACE_DEDICATED_MAX_RSS_MB", DEFAULT_MAX_RSS_MB):
                self._retire(key)
            self._arm()
        return outcome_of(ended, job, self._max_result_bytes)

    async def _worker(self, key: str, job: ScriptJob, env: dict[str, str],
                      flavour: Flavour | None) -> DedicatedWorker | ScriptOutcome | None:
        """The live worker of `key`, started if needed; a failure when it cannot start; None
        when the cap is reached and every worker is busy."""
        worker = self._workers.get(key)
        if worker is not None and worker.alive:
            self._workers.move_to_end(key)
            return worker
        self._retire(key)  # a worker that died, or served another event loop
        if not self._make_room(key):
            return None
        worker = DedicatedWorker(self._jobs)
        self._workers[key] = worker
        launch = launch_of(job, env, self._max_result_bytes)
        launch.payload["dedicated"] = True
        try:
            await worker.start(launch, flavour)
        except (WorkerGone, OSError, RuntimeError, TimeoutError) as exc:
            self._retire(key)
            return failure("SandboxError", f"the dedicated worker could not start: {exc}")
        return worker

    def _make_room(self, keep: str) -> bool:
        """Retire least recently used idle workers until one more fits; False if none can go."""
        most = int(_setting("MILLRACE_DEDICATED_WORKERS", DEFAULT_MAX_WORKERS))
        for key in list(self._workers):
            if len(self._workers) < most:
                break
            if key != keep and not self._turns[key].locked():
                self._retire(key)
        return len(self._workers) < most

    def _retire(self, key: str) -> None:
        worker = self._workers.pop(key, None)
        self._used.pop(key, None)
        if worker is not None:
            worker.close()

    def _arm(self) -> None:
        """Look for idle workers once the idle time may have passed."""
        loop = asyncio.get_running_loop()
        if self._timer is None or self._timer_loop is not loop:  # a pool may outlive its first loop
            idle = _setting("MILLRACE_DEDICATED_IDLE", DEFAULT_IDLE_SECONDS)
            self._timer, self._timer_loop = loop.call_later(idle + 0.05, self._sweep), loop

    def _sweep(self) -> None:
        self._timer = None
        idle = _setting("MILLRACE_DEDICATED_IDLE", DEFAULT_IDLE_SECONDS)
        now = time.monotonic()
        for key in list(self._workers):
            if not self._turns[key].locked() and now - self._used.get(key, now) >= idle:
                self._retire(key)
        if self._workers:
            self._arm()

    def close(self) -> None:
        """End every worker."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for key in list(self._workers):
            self._retire(key)
