"""Two schedulers on one PostgreSQL database: every firing still runs exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from engine import Engine, FakeClock, Scheduler, Store
from tests.flowkit import flow, py
from tests.pg import pg_database, pg_url  # noqa: F401  (pytest fixtures)

START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc).timestamp()


def test_two_schedulers_on_one_database_submit_each_firing_once(pg_database):
    clock = FakeClock(START)
    engines = [Engine(store=Store.open(pg_database, clock=clock), clock=clock) for _ in range(2)]
    try:
        engines[0].store.save_flow("f/t/noop", flow(py("a", "def main():\n    return 1\n")))
        first, second = (Scheduler(engine) for engine in engines)
        first.save("f/t/minutely", schedule="* * * * *", script_path="f/t/noop")
        first.save("f/t/seconds", schedule="*/20 * * * * *", script_path="f/t/noop", catch_up="latest")
        submitted: list[str] = []
        with ThreadPoolExecutor(4) as pool:
            for _ in range(30):
                clock.advance(13)
                ticks = [pool.submit(s.tick) for s in (first, second, first, second)]
                for tick in ticks:
                    submitted += tick.result()
        store = engines[0].store
        minutely = store.schedule_runs("f/t/minutely", limit=1000)
        seconds = store.schedule_runs("f/t/seconds", limit=1000)
        assert len(minutely) == 6  # 30 * 13 s = 390 s: firings at 60, 120, ..., 360
        assert len(seconds) == 19  # every 20 s up to 380 s
        assert len({r.id for r in minutely + seconds}) == 25
        assert set(submitted) == {r.id for r in minutely + seconds}
    finally:
        for engine in engines:
            asyncio.run(engine.close())
            engine.store.close()
