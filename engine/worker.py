"""A queue worker: claims queued runs, runs them to their end, and hands back what it cannot.

Several workers (processes, machines) share one store. Each claims runs atomically
(`QueueStore.claim_run`), heartbeats the runs it holds, and puts back in the queue the
runs of workers that went quiet (`requeue_stale`), so a killed worker's runs are taken
over; the journal makes the taker skip the steps that already finished. On `stop()`
(SIGTERM) a worker claims nothing more, lets what it holds finish within a grace
period, and hands the rest back to the queue.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import uuid
from collections.abc import Iterable
from typing import Any

from engine.errors import BadInput

log = logging.getLogger("millrace.worker")


class QueueWorker:
    """Runs queued runs of an Engine's store, `concurrency` at a time.

    Args:
        engine: the Engine whose store holds the queue and which runs the runs.
        worker_id: this worker's id in the store; default: host, pid and a random part.
        concurrency: how many runs it holds at once.
        tags: only claim runs whose tag is one of these; None claims any run.
        heartbeat: seconds between heartbeats (and checks for stale workers).
        stale_after: seconds without a heartbeat after which a worker's runs are taken over.
        poll: seconds between looks at the queue when nothing wakes the worker.
        grace: seconds a stopping worker waits for its runs before handing them back.
    """

    def __init__(self, engine: Any, *, worker_id: str | None = None, concurrency: int = 4,
                 tags: Iterable[str] | None = None, heartbeat: float = 10.0, stale_after: float = 60.0,
                 poll: float = 0.5, grace: float = 30.0):
        if concurrency < 1:
            raise BadInput(f"concurrency must be at least 1, got {concurrency}")
        if not 0 < heartbeat < stale_after:
            # A worker that heartbeats less often than the stale timeout loses its runs.
            raise BadInput(f"heartbeat ({heartbeat:g} s) must be positive and shorter than "
                           f"stale-after ({stale_after:g} s)")
        self.engine = engine
        self.worker_id = worker_id or f"worker-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.concurrency = concurrency
        self.tags = None if tags is None else list(tags)
        self.heartbeat, self.stale_after, self.poll, self.grace = heartbeat, stale_after, poll, grace
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._last_heartbeat = float("-inf")
        self._last_due_check = float("-inf")

    @property
    def store(self) -> Any:
        return self.engine.store

    @property
    def held(self) -> list[str]:
        """The ids of the runs this worker is running now."""
        return sorted(self._tasks)

    def stop(self) -> None:
        """Claim nothing more; `serve` drains and returns."""
        self._stopping = True
        self._wake.set()

    def wake(self) -> None:
        """Look at the queue now rather than at the next poll."""
        self._wake.set()

    async def serve_until_signalled(self) -> None:
        """`serve`, stopping gracefully on SIGTERM or SIGINT."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stop)
        try:
            await self.serve()
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)

    async def serve(self) -> None:
        """Claim and run queued runs until `stop()`, then drain and retire."""
        self.store.register_worker(self.worker_id, tags=self.tags, now=self.engine.clock.now())
        log.info("worker %s started (concurrency %d, tags %s)", self.worker_id, self.concurrency, self.tags)
        try:
            while not self._stopping:
                self.tick()
                await self._sleep()
            await self._drain()
        finally:
            await self._hand_back()

    def tick(self) -> None:
        """Heartbeat when due, take over stale runs, queue waiting runs whose deadline
        passed, and claim runs for every free slot."""
        self._heartbeat_if_due()
        self._requeue_due_if_due()
        free = self.concurrency - len(self._tasks)
        if self._stopping or free < 1:
            return
        # One statement fills every free slot (fewer runs back: the queue is empty).
        for run in self.store.claim_runs(self.worker_id, self.tags, limit=free, now=self.engine.clock.now()):
            log.info("worker %s claimed run %s", self.worker_id, run.id)
            self._start(run)

    def _heartbeat_if_due(self) -> None:
        now = self.engine.clock.now()
        if now - self._last_heartbeat < self.heartbeat:
            return
        self._last_heartbeat = now
        still_held = set(self.store.heartbeat(self.worker_id, now=now))
        for run_id, task in list(self._tasks.items()):
            # Taken away as stale (this worker stalled): another worker runs it now.
            if run_id not in still_held and not task.done():
                log.warning("worker %s lost run %s to another worker; stopping it", self.worker_id, run_id)
                task.cancel()
        taken = self.store.requeue_stale(now=now, timeout=self.stale_after)
        if taken:
            log.info("worker %s requeued stale runs %s", self.worker_id, ", ".join(taken))

    def _requeue_due_if_due(self) -> None:
        # A tick follows every finished run; deadlines need looking at once a poll only.
        now = self.engine.clock.now()
        if now - self._last_due_check >= self.poll:
            self._last_due_check = now
            self.store.requeue_due(now=now)

    def _start(self, run: Any) -> None:
        task = asyncio.get_running_loop().create_task(self._continue(run), name=f"run-{run.id}")
        self._tasks[run.id] = task
        task.add_done_callback(lambda _: self._wake.set())

    async def _continue(self, run: Any) -> None:
        run_id = run.id
        try:
            # The claim returned the run as it now is; no need to read it again.
            result = await self.engine.continue_run(run_id, run=run)
            log.info("worker %s: run %s %s", self.worker_id, run_id, result.status)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an engine bug: record it on the run instead of losing it
            log.exception("run %s crashed the engine", run_id)
            error = {"name": type(exc).__name__, "message": str(exc), "stack": ""}
            self.store.finish_run(run_id, "failure", error=error)
        finally:
            self._tasks.pop(run_id, None)

    async def _sleep(self) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), self.poll)
        except asyncio.TimeoutError:
            pass
        self._wake.clear()

    async def _drain(self) -> None:
        """Keep heartbeating while the runs held finish, up to the grace period."""
        deadline = self.engine.clock.now() + self.grace
        log.info("worker %s stopping; waiting up to %g s for %d run(s)", self.worker_id, self.grace,
                 len(self._tasks))
        while self._tasks and self.engine.clock.now() < deadline:
            self._heartbeat_if_due()
            await self._sleep()

    async def _hand_back(self) -> None:
        """Stop the runs still held and put them back in the queue for another worker."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        released = self.store.retire_worker(self.worker_id)
        if released:
            log.info("worker %s handed back runs %s", self.worker_id, ", ".join(released))
