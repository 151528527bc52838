"""A suspect step runs alone on its worker: the other runs' steps end first, none starts."""

from __future__ import annotations

import asyncio
import contextlib

from engine.executor.solo import Solo
from tests.engine.test_executor_losses import in_flight, lost_worker
from tests.flowkit import flow, peak_overlap, py, span_code


def play(patience: float, scenario) -> list[str]:
    """Run `scenario(solo, step)` on a Solo of that patience; returns what the steps logged.

    `step(name, tree, seconds, suspect=False)` is a step of run tree `tree` that lasts
    `seconds`, taking its turn as a script step does (alone when it is a suspect).
    """
    log: list[str] = []

    async def step(name: str, tree: str, seconds: float, *, suspect: bool = False) -> None:
        async with solo.alone(tree) if suspect else contextlib.nullcontext():
            async with solo.step(tree):
                log.append(f"start {name}")
                await asyncio.sleep(seconds)
                log.append(f"end {name}")

    async def main() -> None:
        await scenario(solo, step)

    solo = Solo(patience=patience)
    asyncio.run(main())
    return log


def test_a_suspect_waits_for_the_steps_in_flight_and_holds_back_new_ones():
    async def scenario(solo, step) -> None:
        first = asyncio.create_task(step("a", "t1", 0.1))
        await asyncio.sleep(0.02)
        suspect = asyncio.create_task(step("suspect", "t2", 0.05, suspect=True))
        await asyncio.sleep(0.02)
        assert solo.pending  # its worker claims nothing now
        later = asyncio.create_task(step("b", "t3", 0.01))
        await asyncio.gather(first, suspect, later)
        assert not solo.pending

    log = play(5, scenario)
    assert log == ["start a", "end a", "start suspect", "end suspect", "start b", "end b"]


def test_a_suspect_runs_anyway_once_its_patience_is_over():
    async def scenario(solo, step) -> None:
        long = asyncio.create_task(step("long", "t1", 0.5))
        await asyncio.sleep(0.02)
        await step("suspect", "t2", 0.01, suspect=True)
        await long

    assert play(0.1, scenario) == ["start long", "start suspect", "end suspect", "end long"]


def test_a_suspect_does_not_hold_back_its_own_run_tree_and_suspects_take_turns():
    async def scenario(solo, step) -> None:
        mine = asyncio.create_task(step("parent", "t1", 0.2))
        await asyncio.sleep(0.02)
        suspects = asyncio.gather(step("s1", "t1", 0.1, suspect=True), step("s2", "t2", 0.05, suspect=True))
        await asyncio.sleep(0.02)
        await step("part", "t1", 0.01)  # e.g. a part of the suspect's own flow
        await suspects
        await mine

    log = play(5, scenario)
    # Its own tree's steps are neither waited for nor held back.
    assert log.index("start s1") < log.index("end parent") and log.index("end part") < log.index("end s1")
    assert log.index("end s1") < log.index("start s2") and log.index("end parent") < log.index("start s2")


def test_runs_driven_together_keep_their_steps_apart_from_a_suspect(harness, tmp_path):
    spans = tmp_path / "spans"
    engine = harness.engine
    suspect = engine.submit(flow(py("x", span_code(str(spans), 0.4))))
    in_flight(engine.store, suspect, "x", lost_worker(engine.store), losses=1)
    others = [engine.submit(flow(py("y", span_code(str(spans), 0.4)))) for _ in range(3)]

    async def together() -> list:
        return list(await asyncio.gather(*(engine.drive(run_id) for run_id in [*others, suspect])))

    done = harness.call(together())

    assert [result.status for result in done] == ["success"] * 4
    assert len(spans.read_text().splitlines()) == 4
    assert peak_overlap(spans) == 3  # the three others together; the suspect alone
    assert engine.store.load_steps(suspect)["x"].data["worker_losses"] == 2
