"""The engine's thread: its own loop, started again after a failure, stopped on request."""

from __future__ import annotations

import asyncio
import threading

import pytest

from app.services import engine_host
from app.services.engine_host import EngineThread


@pytest.fixture(autouse=True)
def quick_restarts(monkeypatch):
    monkeypatch.setattr(engine_host, "RESTART_DELAYS", (0.01,))


def test_the_engine_runs_on_a_thread_and_loop_of_its_own_and_takes_calls_from_the_web_loop():
    seen: dict[str, object] = {}
    called = threading.Event()

    async def main() -> None:
        seen["thread"], seen["loop"] = threading.get_ident(), asyncio.get_running_loop()
        await asyncio.Event().wait()

    async def web() -> None:
        host = EngineThread(main)
        host.start()
        host.call_soon(lambda: (seen.setdefault("called_on", threading.get_ident()), called.set()))
        assert await asyncio.to_thread(called.wait, 5)
        seen["web_loop"] = asyncio.get_running_loop()
        await host.stop(5)
        assert not host.alive

    asyncio.run(web())
    assert seen["thread"] != threading.get_ident() and seen["called_on"] == seen["thread"]
    assert seen["loop"] is not seen["web_loop"]


def test_an_engine_that_fails_is_started_again_and_stopping_cancels_it():
    starts: list[int] = []
    cancelled = threading.Event()

    async def main() -> None:
        starts.append(len(starts))
        if len(starts) < 3:
            raise RuntimeError("an engine bug")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def web() -> EngineThread:
        host = EngineThread(main)
        host.start()
        while len(starts) < 3:
            await asyncio.sleep(0.01)
        await host.stop(5)
        return host

    host = asyncio.run(web())
    assert host.restarts == 2 and not host.alive and cancelled.is_set()


def test_calls_after_the_engine_stopped_are_dropped():
    async def main() -> None:
        await asyncio.Event().wait()

    async def web() -> None:
        host = EngineThread(main)
        host.start()
        await host.stop(5)
        host.call_soon(pytest.fail, "called after stop")

    asyncio.run(web())
