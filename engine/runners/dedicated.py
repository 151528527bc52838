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
import os
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

from engine.runners.dedicated_worker import DedicatedWorker, WorkerGone
from engine.runners.job import LogCallback, ScriptJob, ScriptOutcome, default_timeout, failure
from engine.runners.python import launch_of, outcome_of
from engine.runners.zygote import Launch, ZygoteJobs
from engine.runners.zygotes import Flavour

DEFAULT_MAX_WORKERS = 8
DEFAULT_IDLE_SECONDS = 300.0
DEFAULT_MAX_RSS_MB = 1024.0
Key = tuple[Any, ...]
Launcher = Callable[[], "Launch | ScriptOutcome"]
"""Makes what the zygote's child is sent to become a dedicated worker (or a failure)."""
DEDICATED_LANGUAGES = frozenset({"python3", "bun", "nativets"})
"""Languages that run dedicated; a job of another language marked dedicated runs the ordinary way."""


def _setting(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def version_key(job: ScriptJob, env: dict[str, str], flavour: Flavour | None) -> tuple[Any, ...]:
    """What names a script version's worker: two jobs share a worker only when all of it matches.
    (The text itself, not a digest: a loop's steps share one string, whose hash Python keeps.)"""
    return (env.get("WM_WORKSPACE", ""), job.language, job.content, job.path, tuple(sorted(job.modules.items())),
            job.lock, flavour.name if flavour else None, job.memory_limit_mb, job.cwd)


@dataclass
class _Slot:
    """A version's place: its worker (if any), the turn its calls take, who waits for it."""

    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0
    """Calls running or waiting their turn: the slot stays while there are any."""
    worker: DedicatedWorker | None = None
    used: float = 0.0


class DedicatedWorkers:
    """The pool's dedicated workers by version key, least recently used first."""

    def __init__(self, jobs: ZygoteJobs, max_result_bytes: int):
        self._jobs, self._max_result_bytes = jobs, max_result_bytes
        self._slots: OrderedDict[Key, _Slot] = OrderedDict()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    def __len__(self) -> int:
        return sum(1 for slot in self._slots.values() if slot.worker is not None)

    async def run(self, job: ScriptJob, on_log: LogCallback | None, env: dict[str, str],
                  flavour: Flavour | None = None, *, launch: Launcher | None = None,
                  extra: dict[str, Any] | None = None) -> ScriptOutcome | None:
        """Run `job` in its version's worker; None when it cannot run dedicated (its language,
        or every worker busy at the cap): the caller runs it the ordinary way.

        Args:
            env: the job's whole environment (each call's own).
            flavour: the zygote of the job's Python lock.
            launch: what starts a worker for the job; default a Python one.
            extra: what each call carries beside entry, args and env (a runtime's own).
        """
        if job.language not in DEDICATED_LANGUAGES:
            return None
        key = version_key(job, env, flavour)
        slot = self._slots.get(key) or self._slots.setdefault(key, _Slot())
        slot.users += 1
        call = {**(extra or {}), "entry": job.entry, "args": job.args, "env": env}
        launch = launch or (lambda: launch_of(job, env, self._max_result_bytes))
        try:
            async with slot.turn:
                return await self._call(key, slot, job, on_log, call, launch, flavour)
        finally:
            slot.users -= 1
            if slot.users == 0 and slot.worker is None:
                self._slots.pop(key, None)

    async def _call(self, key: Key, slot: _Slot, job: ScriptJob, on_log: LogCallback | None, call: dict[str, Any],
                    launch: Launcher, flavour: Flavour | None) -> ScriptOutcome | None:
        """One call on the slot's worker (started if needed), its turn taken."""
        worker = await self._worker(key, slot, launch, flavour)
        if worker is None or isinstance(worker, ScriptOutcome):
            return worker
        ended = await worker.call(call, job.timeout or default_timeout(), on_log)
        slot.used = time.monotonic()
        if not worker.alive or worker.grown_past(_setting("MILLRACE_DEDICATED_MAX_RSS_MB", DEFAULT_MAX_RSS_MB)):
            self._retire(slot)
        self._arm()
        return outcome_of(ended, job, self._max_result_bytes)

    async def _worker(self, key: Key, slot: _Slot, launch: Launcher,
                      flavour: Flavour | None) -> DedicatedWorker | ScriptOutcome | None:
        """The slot's live worker, started if needed; a failure when it cannot start; None
        when the cap is reached and every worker is busy."""
        if slot.worker is not None and slot.worker.alive:
            self._slots.move_to_end(key)
            return slot.worker
        self._retire(slot)  # a worker that died, or served another event loop
        if not self._make_room(slot):
            return None
        made = launch()
        if isinstance(made, ScriptOutcome):
            return made
        made.payload["dedicated"] = True
        worker = slot.worker = DedicatedWorker(self._jobs)
        try:
            await worker.start(made, flavour)
        except (WorkerGone, OSError, RuntimeError, TimeoutError) as exc:
            self._retire(slot)
            return failure("SandboxError", f"the dedicated worker could not start: {exc}")
        return worker

    def _make_room(self, keep: _Slot) -> bool:
        """Retire least recently used idle workers until one more fits; False if none can go."""
        most = int(_setting("MILLRACE_DEDICATED_WORKERS", DEFAULT_MAX_WORKERS))
        for slot in list(self._slots.values()):
            if len(self) < most:
                break
            if slot is not keep and not slot.turn.locked():
                self._retire(slot)
        return len(self) < most

    def _retire(self, slot: _Slot) -> None:
        if slot.worker is not None:
            slot.worker.close()
            slot.worker = None
        if slot.users == 0:
            for key in [k for k, s in self._slots.items() if s is slot]:
                del self._slots[key]

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
        for slot in list(self._slots.values()):
            if slot.worker is not None and not slot.turn.locked() and now - slot.used >= idle:
                self._retire(slot)
        if len(self):
            self._arm()

    def close(self) -> None:
        """End every worker."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for slot in list(self._slots.values()):
            self._retire(slot)
