"""The web loop's guard: database calls made on it are refused, `off_loop` runs them elsewhere."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy
from sqlalchemy.exc import OperationalError

from app.services import offloop
from app.services.offloop import BlockingOnLoop, DatabaseUnavailable, off_loop

WHO = contextvars.ContextVar("who", default="nobody")


@pytest.fixture
def database(tmp_path) -> Iterator[sqlalchemy.Engine]:
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'guarded.db'}")
    offloop.forbid_on_loop(engine)
    offloop.forbid_on_loop(engine)  # twice is once
    yield engine
    engine.dispose()
    offloop._web_loop = None


def select_one(engine: sqlalchemy.Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sqlalchemy.text("SELECT 1")).scalar_one()


def test_a_database_call_on_the_web_loop_is_refused_and_runs_off_it(database):
    async def serve() -> int:
        offloop.mark_web_loop()
        with pytest.raises(BlockingOnLoop, match="off_loop"):
            select_one(database)
        return await off_loop(select_one, database)

    assert asyncio.run(serve()) == 1


def test_calls_from_other_threads_and_their_loops_are_let_through(database):
    async def engine_side() -> int:
        return select_one(database)  # a loop, but not the web's (the engine's thread)

    async def serve() -> list[int]:
        offloop.mark_web_loop()
        other_loop = await asyncio.to_thread(asyncio.run, engine_side())
        return [other_loop, await asyncio.to_thread(select_one, database)]

    assert asyncio.run(serve()) == [1, 1]
    assert select_one(database) == 1  # and before any loop runs


def test_off_loop_runs_on_another_thread_in_the_callers_context():
    async def serve() -> tuple[str, bool]:
        WHO.set("alice")
        return await off_loop(lambda: (WHO.get(), threading.current_thread() is threading.main_thread()))

    assert asyncio.run(serve()) == ("alice", False)


def test_a_database_that_is_away_is_said_so_in_words_to_try_again():
    def away() -> None:
        raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"),
                               connection_invalidated=True)

    def wrong() -> None:
        raise OperationalError("SELEC 1", {}, ValueError("syntax error"))

    with pytest.raises(DatabaseUnavailable, match="try again in a moment"):
        asyncio.run(off_loop(away))
    with pytest.raises(OperationalError):  # a wrong call is no outage: it stays what it is
        asyncio.run(off_loop(wrong))
