"""The queue worker: the one driver of runs. It claims queued runs, runs them to their
end, and hands back what it cannot.

Every run is driven by a QueueWorker: the app's in-process one, `python -m engine
worker` processes, and the CLI's `run` and `recover`, which serve one of their own in
process (`scope` limits it to the runs they were asked for; see engine/driving.py).

Several workers (processes, machines) share one store. Each claims runs atomically
(`QueueStore.claim_run`), heartbeats the runs it holds, and puts back in the queue the
runs of workers that went quiet (`requeue_stale`), so a killed worker's runs are taken
over; the journal makes the taker skip the steps that already finished. On `stop()`
(SIGTERM) a worker claims nothing more, lets what it holds finish within a grace
period, and hands the rest back to the queue.

The database going away (a PostgreSQL restart) does not stop a worker. Each Store call
retries for a while (engine/store/retry.py), blocking the worker meanwhile; a tick that
still fails is logged and tried again later. A step whose script was running when the
database went away keeps running; its record is saved once the database is back, so
it ran once. When the database stays away longer than the store retries, the run's
task ends without recording anything more (each record is one statement: a step is
never half recorded), and the next heartbeat that gets through hands the run back to
the queue, to be continued from its last recorded step: that step runs again (its log
may then hold the lines of both tries).

A worker whose runs may have been taken over must not write for them. A takeover
needs `stale_after` seconds without heartbeat, so the worker's lease on its runs lasts
`stale_after - heartbeat` seconds from its last heartbeat. Before every store call a
run makes (`Database.fence`), the lease is checked; once lapsed (the worker was
stopped, starved of CPU, or out of touch with the database) it is renewed with a
heartbeat first, and a run that is no longer this worker's is stopped (`RunLost`):
its script is killed and nothing of it is written. And a worker that was itself out
of touch does not judge others stale until it has watched them for `stale_after`
seconds again, so a database restart does not make every worker take over the
others' runs.

A worker that dies or hangs while a step runs is found stale and its runs taken over;
the taker's executor counts, on that step's journal record, that a worker was lost
running it, and fails the step once that happened `max_losses` times
(engine/executor/losses.py), so a step that kills its worker is not run for ever.
Meanwhile such a step runs alone on its worker, which claims nothing else until it
ends (engine/executor/solo.py).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import signal
import socket
import uuid
from collections.abc import Iterable
from typing import Any

from engine.driving import Following
from engine.errors import BadInput, RunLost
from engine.executor.flow import RunResult, continue_run
from engine.executor.losses import max_losses_from_env
from engine.executor.parts import WorkerRole, normalize_tags
from engine.executor.solo import Solo
from engine.store.retry import is_transient

log = logging.getLogger("millrace.worker")

# Longest pause between ticks while the database keeps failing them.
MAX_PAUSE = 5.0
# The run a task works on, so that the store fence knows whose call it is.
_holding: contextvars.ContextVar[str | None] = contextvars.ContextVar("millrace_held_run", default=None)


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
        spread: give the iterations of parallel loops and the branches of parallel
            branchalls to the queue as parts, so other workers share them; default: on
            PostgreSQL (several processes), off on SQLite (one process).
        scope: only claim (and judge stale) the runs of these run trees, given by their
            top-level run ids; more are added with `take`. None: every run.
        max_losses: how many times a worker may be lost while running a step before the
            step fails; default: MILLRACE_MAX_WORKER_LOSSES, else 3.
    """

    def __init__(self, engine: Any, *, worker_id: str | None = None, concurrency: int = 4,
                 tags: Iterable[str] | None = None, heartbeat: float = 10.0, stale_after: float = 60.0,
                 poll: float = 0.5, grace: float = 30.0, spread: bool | None = None,
                 scope: Iterable[str] | None = None, max_losses: int | None = None):
        if concurrency < 1:
            raise BadInput(f"concurrency must be at least 1, got {concurrency}")
        if not 0 < heartbeat < stale_after:
            # A worker that heartbeats less often than the stale timeout loses its runs.
            raise BadInput(f"heartbeat ({heartbeat:g} s) must be positive and shorter than "
                           f"stale-after ({stale_after:g} s)")
        self.engine = engine
        self.worker_id = worker_id or f"worker-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.concurrency = concurrency
        self.tags = normalize_tags(tags)
        if spread is None:
            spread = getattr(engine.store.db, "dialect", "") == "postgresql"
        if max_losses is None:
            max_losses = max_losses_from_env()
        elif max_losses < 1:
            raise BadInput(f"max_losses must be at least 1, got {max_losses}")
        # How the engine's executor takes part in the queue: which steps it runs here,
        # which it gives away as parts, whom to wake when it queued some, and how often
        # a step may lose its worker.
        self.solo = Solo(patience=stale_after)
        self.role = WorkerRole(self.worker_id, None if self.tags is None else frozenset(self.tags), spread,
                               self.wake, self._help, max_losses, self.solo)
        self.scope: set[str] | None = None if scope is None else set(scope)
        self.heartbeat, self.stale_after, self.poll, self.grace = heartbeat, stale_after, poll, grace
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lost: set[str] = set()
        self._wake = asyncio.Event()
        self._watchers: set[asyncio.Event] = set()
        self._following = Following(self)
        self._driven: list[str] | None = None
        self._stopping = False
        self._serving = False
        self._started_at = float("inf")
        self._swept = False
        """Whether this worker has judged stale every worker silent since before it started."""
        self._idle = False
        """Whether the last tick found nothing to claim and nothing held."""
        self._registered = False
        self._failures = 0
        self._last_heartbeat = float("-inf")
        """The time the last heartbeat that got through recorded."""
        self._watching_since = float("-inf")
        """Since when this worker has heartbeated without a gap (it may judge others stale)."""
        self._last_due_check = float("-inf")

    @property
    def store(self) -> Any:
        return self.engine.store

    @property
    def held(self) -> list[str]:
        """The ids of the runs this worker is running now."""
        return sorted(self._tasks)

    @property
    def serving(self) -> bool:
        """Whether `serve` runs and has not been told to stop."""
        return self._serving and not self._stopping

    def take(self, run_id: str) -> None:
        """Add a run tree (a top-level run and its parts) to a scoped worker's runs."""
        if self.scope is not None:
            self.scope.add(run_id)
        self.wake()

    def drop(self, run_id: str) -> None:
        """Take no more of a run tree's runs (a scoped worker)."""
        if self.scope is not None:
            self.scope.discard(run_id)

    @property
    def stopping(self) -> bool:
        """Whether `stop()` was called: it claims nothing more."""
        return self._stopping

    async def follow(self, run_id: str, *, through_approvals: bool = False, held: bool = False) -> RunResult:
        """Drive a run (and its parts) until it ends, or until it waits for approval;
        see `engine.driving.Following.follow`."""
        return await self._following.follow(run_id, through_approvals=through_approvals, held=held)

    def adopt(self, run: Any) -> None:
        """Run a run that was queued held by this worker, as if it had just claimed it."""
        log.info("worker %s runs run %s", self.worker_id, run.id)
        self._start(run)

    async def changed(self, timeout: float) -> None:
        """Wait until one of this worker's runs stops (ends, waits, is lost), or `timeout`."""
        event = asyncio.Event()
        self._watchers.add(event)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            self._watchers.discard(event)

    def stop_runs(self, run_ids: Iterable[str]) -> None:
        """Stop the tasks running these runs here, which have ended (canceled), from any
        thread; runs not held here are left to their own workers."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._stop_ended, list(run_ids))
        except RuntimeError:
            pass  # the loop closed meanwhile: nothing runs here any more

    def _stop_ended(self, run_ids: list[str]) -> None:
        for run_id in run_ids:
            task = self._tasks.get(run_id)
            if task is not None and not task.done():
                log.info("worker %s stops run %s: it was canceled", self.worker_id, run_id)
                self._lost.add(run_id)  # nothing more of it may be written
                task.cancel()

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

    async def serve(self, *, until_idle: bool = False) -> list[str]:
        """Claim and run queued runs until `stop()`, then drain and retire.

        With `until_idle`, also stop once the worker has judged the others stale (after
        watching them for `stale_after` seconds) and then found nothing to run: every
        run left queued or held by a dead process has been driven.

        Errors that say the database is away are logged and the tick is tried again
        later (backing off up to MAX_PAUSE seconds); other errors are bugs and raise.

        Returns:
            With `until_idle`, the ids of the top-level runs it continued, as they
            stopped; otherwise [].
        """
        db = getattr(self.store, "db", None)
        self._attach(db)
        self._driven = [] if until_idle else None
        try:
            while not self._stopping:
                pause = self.poll if self._survive(self.tick) else min(self.poll * 2 ** self._failures, MAX_PAUSE)
                if until_idle and self._swept and self._idle:
                    break
                await self._sleep(pause)
            await self._drain()
        finally:
            await self._hand_back()
            self._detach(db)
        return list(self._driven or [])

    def _attach(self, db: Any) -> None:
        """Make this worker the engine's driver: its executor's role, its store's fence."""
        self._serving = True
        self._loop = asyncio.get_running_loop()
        self.engine.services.worker = self.role
        self.engine.driver = self
        if db is not None:
            db.fence = self._fence
            db.holder = self._holder

    def _detach(self, db: Any) -> None:
        self._serving = False
        if db is not None and db.fence == self._fence:
            db.fence = None
            db.holder = None
        if self.engine.driver is self:
            self.engine.driver = None
            self.engine.services.worker = None

    def _survive(self, action: Any) -> bool:
        """Run `action`; False (logged) when the database is away, so the caller backs off."""
        try:
            action()
        except Exception as error:
            if not is_transient(error):
                raise
            self._failures += 1
            log.warning("worker %s: database unavailable (%s); trying again", self.worker_id,
                        str(error).splitlines()[0])
            return False
        self._failures = 0
        return True

    def tick(self) -> None:
        """Heartbeat when due, take over stale runs, queue waiting runs whose deadline
        passed, and claim runs for every free slot."""
        if not self._registered:
            self._started_at = self.engine.clock.now()
            self.store.register_worker(self.worker_id, tags=self.tags, now=self._started_at)
            self._registered = True
            log.info("worker %s started (concurrency %d, tags %s)", self.worker_id, self.concurrency, self.tags)
        self._heartbeat_if_due()
        self._requeue_due_if_due()
        free = self.concurrency - len(self._tasks)
        self._idle = False
        if self._stopping or free < 1 or self.solo.pending:
            return
        # One statement fills every free slot (fewer runs back: the queue is empty).
        claimed = self.store.claim_runs(self.worker_id, self.tags, limit=free, now=self.engine.clock.now(),
                                        roots=self.scope)
        for run in claimed:
            log.info("worker %s claimed run %s", self.worker_id, run.id)
            self._start(run)
        self._idle = not claimed and not self._tasks

    def _heartbeat_if_due(self) -> None:
        if self.engine.clock.now() - self._last_heartbeat < self.heartbeat:
            return
        self._heartbeat()
        now = self.engine.clock.now()
        if now - self._watching_since < self.stale_after:
            return
        taken = self.store.requeue_stale(now=now, timeout=self.stale_after, roots=self.scope)
        # Every worker silent since before this one started has been judged now.
        self._swept = self._swept or now - self._started_at >= self.stale_after
        if taken:
            log.info("worker %s requeued stale runs %s", self.worker_id, ", ".join(taken))

    def _heartbeat(self, current: str | None = None) -> set[str]:
        """Heartbeat; stop the runs taken away, hand back those held but not run here.

        Args:
            current: the run whose store call asked for this heartbeat (see `_fence`),
                left for the caller to judge: it may just have finished.

        Returns:
            The ids of the runs the store says this worker holds.
        """
        now = self.engine.clock.now()
        held = set(self.store.heartbeat(self.worker_id, now=now))
        through = self.engine.clock.now()
        gap = now - self._last_heartbeat if self._last_heartbeat > float("-inf") else 0.0
        if gap > 2 * self.heartbeat or through - now > self.heartbeat:
            # Out of touch (the database was away or this process stood still): the
            # other workers may have been too, so watch them afresh before judging.
            self._watching_since = through
        self._last_heartbeat = now
        self._stop_lost(held, current)
        for run_id in sorted(held - set(self._tasks)):
            # Held in the store but run by no task here: a claim whose answer was lost,
            # or a run dropped while the database stayed away. Another claim continues it.
            if self.store.release(run_id, worker_id=self.worker_id):
                log.warning("worker %s handed back run %s, which it held but did not run", self.worker_id, run_id)
        return held

    def _stop_lost(self, held: set[str], current: str | None) -> None:
        """Cancel the tasks of runs taken away as stale (this worker stalled)."""
        for run_id, task in list(self._tasks.items()):
            if run_id not in held and run_id != current and not task.done() and run_id not in self._lost:
                log.warning("worker %s lost run %s to another worker; stopping it", self.worker_id, run_id)
                self._lost.add(run_id)
                task.cancel()

    def _holder(self) -> tuple[str, str] | None:
        """The run the current store call is for and this worker's id, inside a run's
        task (the store writes that run's journal and end only while it is still ours)."""
        run_id = _holding.get()
        return None if run_id is None else (run_id, self.worker_id)

    def _fence(self) -> None:
        """Before a run's store call: refuse it unless the run is still this worker's."""
        run_id = _holding.get()
        if run_id is None:
            return  # not a run's call (the worker's own, the app's)
        if run_id in self._lost or run_id not in self._tasks:
            raise RunLost(f"worker {self.worker_id} no longer runs {run_id}")
        if self.engine.clock.now() - self._last_heartbeat < self.stale_after - self.heartbeat:
            return
        # The lease lapsed: another worker may have taken the run over. Renew it first.
        if run_id in self._heartbeat(current=run_id):
            return
        run = self.store.get_run(run_id)
        if run is not None and run.worker_id == self.worker_id:
            return  # not running any more because this worker finished or suspended it
        log.warning("worker %s lost run %s to another worker; stopping it", self.worker_id, run_id)
        self._lost.add(run_id)
        raise RunLost(f"run {run_id} was taken over by another worker")

    def _requeue_due_if_due(self) -> None:
        # A tick follows every finished run; deadlines need looking at once a poll only.
        now = self.engine.clock.now()
        if now - self._last_due_check >= self.poll:
            self._last_due_check = now
            self.store.requeue_due(now=now)

    def _start(self, run: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(self._continue(run), name=f"run-{run.id}")
        self._tasks[run.id] = task
        task.add_done_callback(self._stopped_one)
        return task

    def _stopped_one(self, _: Any) -> None:
        self._wake.set()
        for event in self._watchers:
            event.set()

    def _help(self, parent_run_id: str) -> asyncio.Task[Any] | None:
        """A flow run waiting for its parts takes one of them here (over `concurrency`,
        in the slot the waiting run holds), so it never waits for ever on a busy queue."""
        if self._stopping:
            return None
        run = self.store.claim_run(self.worker_id, self.tags, now=self.engine.clock.now(),
                                   parent_run_id=parent_run_id)
        if run is None:
            return None
        log.info("worker %s claimed part %s of run %s", self.worker_id, run.id, parent_run_id)
        return self._start(run)

    async def _continue(self, run: Any) -> None:
        run_id = run.id
        _holding.set(run_id)  # this task's own context: its store calls are fenced
        try:
            # The claim returned the run as it now is; no need to read it again.
            result = await continue_run(self.engine.services, run)
            log.info("worker %s: run %s %s", self.worker_id, run_id, result.status)
            if self._driven is not None and run.parent_run_id is None:
                self._driven.append(run_id)
        except asyncio.CancelledError:
            raise
        except RunLost as lost:
            log.warning("worker %s stopped run %s: %s", self.worker_id, run_id, lost)
        except Exception as exc:
            self._record_crash(run_id, exc)
        finally:
            self._tasks.pop(run_id, None)
            self._lost.discard(run_id)

    def _record_crash(self, run_id: str, exc: Exception) -> None:
        """An error out of a run: the database away (the run is handed back at the next
        heartbeat and continued), or an engine bug (recorded on the run, not lost)."""
        if is_transient(exc):
            log.warning("worker %s: database unavailable, run %s stops here and will be continued from "
                        "its journal (%s)", self.worker_id, run_id, str(exc).splitlines()[0])
            return
        log.error("run %s crashed the engine", run_id, exc_info=exc)
        error = {"name": type(exc).__name__, "message": str(exc), "stack": ""}
        try:
            self.store.finish_run(run_id, "failure", error=error)
        except RunLost:
            pass
        except Exception as failed:
            if not is_transient(failed):
                raise
            log.warning("worker %s: database unavailable, the crash of run %s is not recorded; it will be "
                        "continued from its journal", self.worker_id, run_id)

    async def _sleep(self, seconds: float | None = None) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), self.poll if seconds is None else seconds)
        except asyncio.TimeoutError:
            pass
        self._wake.clear()

    async def _drain(self) -> None:
        """Keep heartbeating while the runs held finish, up to the grace period."""
        deadline = self.engine.clock.now() + self.grace
        log.info("worker %s stopping; waiting up to %g s for %d run(s)", self.worker_id, self.grace,
                 len(self._tasks))
        while self._tasks and self.engine.clock.now() < deadline:
            self._survive(self._heartbeat_if_due)
            await self._sleep()

    async def _hand_back(self) -> None:
        """Stop the runs still held and put them back in the queue for another worker."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            released = self.store.retire_worker(self.worker_id)
        except Exception as error:
            if not is_transient(error):
                raise
            # Its runs go back to the queue when the other workers find it stale.
            log.warning("worker %s could not retire: database unavailable", self.worker_id)
            return
        if released:
            log.info("worker %s handed back runs %s", self.worker_id, ", ".join(released))
