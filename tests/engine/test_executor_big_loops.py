"""Big loops stay bounded: memory flat beyond the result array, the journal read a page at
a time on replay, progress kept on the loop's record, parallel loops with a bounded pool."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from engine.executor import iterations, loops, progress
from tests.flowkit import flow, for_loop, peak_overlap, py

IDENTITY = {"id": "s", "value": {"type": "identity"}}


def _identity_loop() -> dict:
    return flow(for_loop("l", "flow_input.items", [IDENTITY]))


class _Memory:
    """Traced memory while a run goes on: the most in use between two iterations, and
    the peak of the whole run (which includes storing the result array at the end)."""

    def __init__(self, harness):
        self.harness, self.during = harness, 0
        harness.engine.events.add_listener(self._sample)

    def _sample(self, event) -> None:
        if event.kind == "step_finished" and event.step_id == "s":
            self.during = max(self.during, tracemalloc.get_traced_memory()[0])

    def run(self, count: int) -> tuple[int, int]:
        """(most in use during the loop, peak), both above what was in use before."""
        gc.collect()
        tracemalloc.reset_peak()
        before, self.during = tracemalloc.get_traced_memory()[0], 0
        outcome = self.harness.run(_identity_loop(), {"items": [0] * count})
        assert outcome.status == "success" and len(outcome.result) == count
        return self.during - before, tracemalloc.get_traced_memory()[1] - before


def test_a_long_loop_holds_no_more_than_its_result_array(harness):
    memory = _Memory(harness)
    tracemalloc.start()
    try:
        memory.run(1_000)  # warm-up: imports, statement caches, the expression cache
        small_during, small_peak = memory.run(1_000)
        large_during, large_peak = memory.run(10_000)
    finally:
        tracemalloc.stop()
    extra = 9_000
    # While the loop runs, all that grows is the result array (one pointer, 8 bytes, per
    # iteration: the items are one shared small int). Holding each iteration's journal
    # record, frame or event (hundreds of bytes each) would break both bounds.
    assert (large_during - small_during) / extra < 40
    # At its end the array is written as JSON (to the loop's record and the run's result).
    assert (large_peak - small_peak) / extra < 200


def _interrupt_after(store, run_id: str, done: int, total: int) -> None:
    """Make the journal look as if the process died while iteration `done` was running."""
    store.delete_steps(run_id, keys=[f"l/{i}/s" for i in range(done + 1, total)] + ["after"])
    store.save_step(run_id, f"l/{done}/s", status="running", result=None, finished_at=None)
    store.save_step(run_id, "l", status="running", result=None, finished_at=None)
    store.update_run(run_id, status="queued", result=None, finished_at=None, worker_id=None)  # back to the queue


def test_a_long_loop_replays_its_journal_a_page_at_a_time(harness, monkeypatch):
    document = flow(for_loop("l", "flow_input.items", [IDENTITY]), {"id": "after", "value": {"type": "identity"}})
    total, done = 1_300, 1_100
    first = harness.run(document, {"items": list(range(total))})
    store = harness.engine.store
    _interrupt_after(store, first.run_id, done, total)
    harness.clock.advance(60)
    reads: list[int] = []
    real = type(store).load_steps_at
    monkeypatch.setattr(type(store), "load_steps_at", lambda self, run_id, keys: (
        reads.append(len(keys := list(keys))) or real(self, run_id, keys)))
    monkeypatch.setattr(type(store), "load_steps", lambda *a, **k: pytest.fail("the whole journal was read"))

    again = harness.call(harness.engine.drive(first.run_id))
    assert (again.status, again.result) == ("success", list(range(total)))
    assert max(reads) <= iterations.PAGE_ITERATIONS  # one key per iteration of the body's level
    assert len(reads) <= 1 + total // iterations.PAGE_ITERATIONS + 1  # the top level, then page by page
    rows = store.load_steps_at(first.run_id, [f"l/{i}/s" for i in (0, done - 1, done, total - 1)])
    replayed, rerun = rows[f"l/{done - 1}/s"].finished_at, rows[f"l/{done}/s"].finished_at
    assert rows["l/0/s"].finished_at == replayed and rerun == replayed + 60  # finished steps were not run again
    assert rows[f"l/{total - 1}/s"].status == "success"


def test_a_loop_counts_its_iterations_on_its_record_as_it_goes(harness, monkeypatch):
    monkeypatch.setattr(progress, "SAVE_EVERY", 2)
    seen: list[dict] = []
    store = harness.engine.store
    harness.engine.events.add_listener(lambda event: seen.append(store.load_step(event.run_id, "l").data)
                                       if event.kind == "step_finished" and event.key == "l/3/s" else None)
    body = [py("s", "def main(x):\n    if x == 2:\n        raise RuntimeError('two')\n    return x\n",
               x="js:flow_input.iter.value")]
    outcome = harness.run(flow(for_loop("l", "[0, 1, 2, 3, 4]", body)))
    assert seen[0]["progress"]["iterations"] == 2  # saved after two iterations, before the fourth ended
    final = store.load_step(outcome.run_id, "l").data["progress"]
    assert final == {"iterations": 5, "statuses": {"success": 4, "failure": 1}, "failed_steps": {"s": 1}}


def test_a_parallel_loop_without_parallelism_runs_a_bounded_number_at_once(harness, tmp_path, monkeypatch):
    monkeypatch.setattr(loops, "ALL_AT_ONCE", 2)
    spans = tmp_path / "spans.txt"
    code = ("import time\ndef main(x):\n    start = time.time()\n    time.sleep(0.3)\n"
            f"    open({str(spans)!r}, 'a').write(f'{{start}} {{time.time()}}\\n')\n    return x\n")
    body = [py("s", code, x="js:flow_input.iter.value")]
    outcome = harness.run(flow(for_loop("l", "[1, 2, 3, 4, 5]", body, parallel=True)))
    assert outcome.result == [1, 2, 3, 4, 5]
    assert peak_overlap(spans) == 2


def test_a_parallel_loop_keeps_failures_in_place_and_fails_on_the_first_in_order(harness):
    body = [py("s", "import time\ndef main(x):\n    time.sleep(0.2 if x == 1 else 0)\n"
                    "    if x in (1, 3):\n        raise RuntimeError(f'bad {x}')\n    return x\n",
               x="js:flow_input.iter.value")]
    kept = harness.run(flow(for_loop("l", "[0, 1, 2, 3]", body, parallel=True, parallelism=2)))
    assert [r if not isinstance(r, dict) else r["error"]["message"] for r in kept.result] == [0, "bad 1", 2, "bad 3"]
    failed = harness.run(flow(for_loop("l", "[0, 1, 2, 3]", body, parallel=True, parallelism=2,
                                       skip_failures=False)))
    assert failed.status == "failure" and failed.error["message"] == "bad 1"  # the first in order, not in time
