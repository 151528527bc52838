"""Runs share the engine's loop: a run whose steps never wait does not hold it."""

from __future__ import annotations

import asyncio

from tests.flowkit import flow, for_loop


def identities(count: int) -> dict:
    return flow(*[{"id": f"s{n}", "value": {"type": "identity"}} for n in range(count)])


def test_a_short_run_started_beside_a_long_loop_of_instant_steps_ends_first(harness):
    order: list[str] = []

    async def run(name: str, document: dict) -> None:
        await harness.engine.run(document, {"items": list(range(500))})
        order.append(name)

    async def both() -> None:
        long_loop = flow(for_loop("l", "flow_input.items", [{"id": "same", "value": {"type": "identity"}}]))
        await asyncio.gather(run("long loop", long_loop), run("three steps", identities(3)))

    harness.call(both())
    assert order == ["three steps", "long loop"]
