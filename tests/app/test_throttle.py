"""The login throttle's arithmetic, on a real SQLite database and a clock the test moves."""

from __future__ import annotations

from typing import Iterator

import pytest

from engine import FakeClock, Store

from app.services.throttle import BASE_BACKOFF_SECONDS, LIMIT, MAX_BACKOFF_SECONDS, WINDOW_SECONDS, LoginThrottle

KEYS = ["user:ann", "addr:10.0.0.1"]



@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def throttle(tmp_path, clock) -> Iterator[LoginThrottle]:
    store = Store.open(tmp_path / "throttle.db")
    yield LoginThrottle(store, clock.now)
    store.close()


def test_the_fifth_failure_locks_for_the_base_back_off(throttle, clock) -> None:
    for _ in range(LIMIT - 1):
        assert throttle.failed(KEYS) == 0.0
    assert throttle.failed(KEYS) == BASE_BACKOFF_SECONDS
    clock.advance(BASE_BACKOFF_SECONDS - 1)
    assert throttle.wait(KEYS) == 1.0
    clock.advance(1)
    assert throttle.wait(KEYS) == 0.0


def test_each_further_failure_doubles_the_back_off_up_to_the_cap(throttle, clock) -> None:
    waits = []
    for _ in range(LIMIT + 8):
        waits.append(throttle.failed(KEYS))
        clock.advance(1)
    assert waits[LIMIT - 1:LIMIT + 3] == [BASE_BACKOFF_SECONDS * 2 ** n for n in range(4)]
    assert waits[-1] == MAX_BACKOFF_SECONDS


def test_one_locked_key_is_enough_to_wait(throttle) -> None:
    for _ in range(LIMIT):
        throttle.failed(["addr:10.0.0.1"])
    assert throttle.wait(["user:someone-else", "addr:10.0.0.1"]) == BASE_BACKOFF_SECONDS
    assert throttle.wait(["user:someone-else", "addr:10.0.0.2"]) == 0.0


def test_failures_older_than_the_window_are_forgotten(throttle, clock) -> None:
    for _ in range(LIMIT - 1):
        throttle.failed(KEYS)
    clock.advance(WINDOW_SECONDS + 1)
    assert throttle.failed(KEYS) == 0.0  # counting starts again at one


def test_a_success_clears_its_key_only(throttle) -> None:
    for _ in range(LIMIT):
        throttle.failed(KEYS)
    throttle.succeeded("user:ann")
    assert throttle.wait(["user:ann"]) == 0.0
    assert throttle.wait(["addr:10.0.0.1"]) == BASE_BACKOFF_SECONDS
