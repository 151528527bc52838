"""How the app's code reaches its tables (app/services/models.py): through the engine's store.

One connection pool and one retry policy for everything: a method marked `reads` or
`writes` takes a session as its first argument after `self` and runs as one
`Store.transact` call, retried as a whole while PostgreSQL is away. Its object needs a
`store` attribute. A method that does slow work besides (hashing a password) keeps that
work outside, so no transaction is held open for it.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def writes(method: F) -> F:
    """Run `method(self, session, ...)` as one transaction, called as `method(self, ...)`."""
    return _transacted(method, read_only=False)


def reads(method: F) -> F:
    """As `writes`, for a method that only reads: no transaction, no write lock on SQLite."""
    return _transacted(method, read_only=True)


def _transacted(method: F, *, read_only: bool) -> F:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        return self.store.transact(lambda session: method(self, session, *args, **kwargs), read_only=read_only)

    return call  # type: ignore[return-value]
