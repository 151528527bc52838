"""Following a run: drive it in this process until it ends, or until it waits.

`Engine.run` and `Engine.drive` (the CLI's `run`, tests, benchmarks) do not run a run
themselves: they queue it and follow it, while the queue worker serving this engine
claims, heartbeats and continues it like any other run (engine/worker.py). When no
worker serves the engine (the app's and `python -m engine worker`'s serve theirs for
good), the one followed through serves for as long as some run is followed, scoped to
the followed runs so that it never takes the other runs of a shared store.
"""

from __future__ import annotations

import asyncio
from typing import Any

from engine.errors import NotFound
from engine.executor.flow import FINISHED, RunResult


class Following:
    """The runs followed through one queue worker, and the serving it does for them."""

    def __init__(self, worker: Any):
        self.worker = worker
        self.followers = 0
        self.serving: asyncio.Task[Any] | None = None
        """The worker's `serve`, when started here for the followed runs."""

    async def follow(self, run_id: str, *, through_approvals: bool = False, held: bool = False) -> RunResult:
        """Drive a run (and its parts) until it ends, or until it waits for approval.

        The run is the worker's to claim (added to its scope); should another worker
        hold it meanwhile, this one waits for it (and takes it over if that worker
        dies). When nobody serves the worker, it serves while some run is followed.

        Args:
            run_id: a top-level run, queued or not.
            through_approvals: keep driving a run that waits for approval until it ends
                (an approval from anywhere queues it again); otherwise return then.
            held: the run was queued held by this worker (`Engine.submit(held_by=...)`):
                run it at once, before its heartbeat finds it held and not run.

        Raises:
            NotFound: there is no such run.
            RuntimeError: the worker was told to stop (`Engine.drive` takes a new one then).
        """
        worker = self.worker
        if worker.stopping:
            raise RuntimeError(f"queue worker {worker.worker_id} is stopping: it drives no more runs")
        worker.take(run_id)
        self.followers += 1
        if not worker.serving and self.serving is None:
            self.serving = asyncio.get_running_loop().create_task(worker.serve(), name=f"drive-{run_id}")
        if held:
            worker.adopt(worker.store.get_run(run_id))  # no await since it was queued: nothing ran between
        try:
            return await self._until_settled(run_id, through_approvals)
        finally:
            self.followers -= 1
            worker.drop(run_id)
            if self.followers == 0 and self.serving is not None:
                task, self.serving = self.serving, None
                worker.stop()
                await task

    async def _until_settled(self, run_id: str, through_approvals: bool) -> RunResult:
        worker = self.worker
        while True:
            run = worker.store.get_run(run_id)
            if run is None:
                raise NotFound(f"run {run_id!r} not found")
            if run.status in FINISHED:
                return RunResult(run.id, run.status, run.result, run.error)
            waiting = run.status == "suspended" and (run.scheduled_for or 0) > worker.engine.clock.now()
            if waiting and not through_approvals:
                return RunResult(run.id, run.status)
            if self.serving is not None and self.serving.done():
                await self.serving  # it ended: raise what ended it
                raise RuntimeError(f"the driver of run {run_id} stopped before the run ended")
            # No await between reading the run and listening: a run that stops now is heard.
            await worker.changed(worker.poll)
