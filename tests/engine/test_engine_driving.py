"""Engine.run and Engine.drive: a run is queued, then driven by the queue worker in process."""

from __future__ import annotations

import asyncio

import pytest

from engine import NotFound, QueueWorker
from tests.flowkit import flow, py

SLOW = "import time\ndef main():\n    time.sleep(0.3)\n    return 'done'\n"


def test_run_goes_through_a_driver_that_holds_it_and_retires_after(harness):
    outcome = harness.run(flow(py("a", "def main():\n    return 1\n")))
    run = harness.engine.store.get_run(outcome.run_id)
    assert (outcome.status, outcome.result, run.status) == ("success", 1, "success")
    [worker] = [w for w in harness.engine.store.list_workers() if w.id == run.worker_id]
    assert worker.status == "stopped"  # served for this run only
    assert harness.engine.driver is None


def test_a_run_started_here_is_not_taken_by_another_worker_on_the_store(harness):
    here, elsewhere = harness.engine, harness.new()
    other = QueueWorker(elsewhere, poll=0.01)
    queue = here.submit

    def queue_then_the_other_worker_looks(*args, **kwargs) -> str:
        run_id = queue(*args, **kwargs)
        other.tick()  # another process serving the same store claims what it can, right then
        return run_id

    here.submit = queue_then_the_other_worker_looks

    async def both() -> object:
        serving = asyncio.create_task(other.serve())
        try:
            return await here.run(flow(py("a", SLOW)))
        finally:
            other.stop()
            await serving

    outcome = harness.call(both())
    assert (outcome.status, outcome.result) == ("success", "done")
    assert here.store.get_run(outcome.run_id).worker_id != other.worker_id
    assert other.held == []


def test_runs_driven_at_once_share_the_engines_driver(harness):
    async def together() -> list:
        return list(await asyncio.gather(*(harness.engine.run(flow(py("a", SLOW))) for _ in range(3))))

    done = harness.call(together())
    assert [outcome.status for outcome in done] == ["success"] * 3
    holders = {harness.engine.store.get_run(outcome.run_id).worker_id for outcome in done}
    assert len(holders) == 1


def test_driving_a_run_that_does_not_exist_says_so(harness):
    with pytest.raises(NotFound, match="run 'nope' not found"):
        harness.call(harness.engine.drive("nope"))
    assert harness.engine.driver is None
