"""Fixtures for executor tests: an engine on a fresh SQLite store with a fake clock."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from engine import Engine, FakeClock, Store


class EngineHarness:
    """An Engine factory whose runner pool lives for one test, on one event loop."""

    def __init__(self, db_url: str, clock: FakeClock):
        self.db_url, self.clock = db_url, clock
        self.loop = asyncio.new_event_loop()
        self.engines: list[Engine] = []
        self.engine = self.new()

    def new(self, **kw: Any) -> Engine:
        """A new Engine on the same database (as after a restart)."""
        engine = Engine(store=Store.open(self.db_url), clock=kw.pop("clock", self.clock), **kw)
        self.engines.append(engine)
        return engine

    def run(self, document: dict[str, Any], args: dict[str, Any] | None = None, *, engine: Engine | None = None, **kw: Any) -> Any:
        return self.loop.run_until_complete((engine or self.engine).run(document, args or {}, **kw))

    def call(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        for engine in self.engines:
            self.loop.run_until_complete(engine.close())
            engine.store.close()
        self.loop.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def harness(tmp_path, clock) -> Any:
    h = EngineHarness(f"sqlite:///{tmp_path / 'millrace.db'}", clock)
    yield h
    h.close()
