"""Failed logins slow the next ones down: per user and per client address.

After `LIMIT` failures of one key (a username, or an address) within `WINDOW_SECONDS`,
that key is refused for a back-off that doubles with every further failure, up to
`MAX_BACKOFF_SECONDS`. An attempt refused while locked counts as a failure too, so
hammering a locked account only locks it longer. A success clears its user's count
(not its address's: one valid account must not reset a guesser's address).
Counts live in the app's database, so every app instance sees the same ones.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.services.models import LoginFailures
from app.services.transactions import reads, writes

LIMIT = 5
WINDOW_SECONDS = 15 * 60.0
BASE_BACKOFF_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 15 * 60.0


def backoff(failures: int) -> float:
    """Seconds a key stays refused after its `failures`-th failure in a row."""
    if failures < LIMIT:
        return 0.0
    return min(BASE_BACKOFF_SECONDS * 2 ** (failures - LIMIT), MAX_BACKOFF_SECONDS)


def user_key(username: str) -> str:
    return f"user:{username.strip().lower()}"


def address_key(address: str) -> str:
    return f"addr:{address}"


class LoginThrottle:
    """Counts failures per key and says how long a key must still wait.

    Args:
        store: the engine's Store.
        clock: where "now" comes from.
    """

    def __init__(self, store: Any, clock: Callable[[], float] = time.time):
        self.store = store
        self.clock = clock

    def wait(self, keys: Iterable[str]) -> float:
        """Seconds until every key may try again (0: now)."""
        now = self.clock()
        return max([row.last_at + backoff(row.failures) - now for row in self._rows(list(keys))] + [0.0])

    @reads
    def _rows(self, session: Session, keys: list[str]) -> list[LoginFailures]:
        return [row for row in (session.get(LoginFailures, key) for key in keys) if row is not None]

    def failed(self, keys: Iterable[str]) -> float:
        """Count one failure against each key; the seconds they must now wait."""
        now, keys = self.clock(), list(keys)
        for key in keys:
            try:
                self._count(key, now)
            except IntegrityError:  # another instance counted this key's first failure
                self._count(key, now)
        return self.wait(keys)

    @writes
    def _count(self, session: Session, key: str, now: float) -> None:
        row = session.get(LoginFailures, key)
        if row is None:
            row = LoginFailures(key=key)
        elif now - row.last_at > WINDOW_SECONDS:
            row.failures = 0  # the last failure is old: start counting again
        row.failures += 1
        row.last_at = now
        session.add(row)

    @writes
    def succeeded(self, session: Session, key: str) -> None:
        """Forget `key`'s failures (its user just proved the password)."""
        row = session.get(LoginFailures, key)
        if row is not None:
            session.delete(row)
