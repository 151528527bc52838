"""Riding out a database that is away for a while (a PostgreSQL restart or failover).

Every public Store method runs one short transaction, so a method is the unit of retry:
when PostgreSQL is unreachable, restarting, or drops the connection mid-statement,
the whole call is made again on a fresh connection, with backoff, until it succeeds
or `Database.retry_for` seconds have passed; then the last error is raised as is (it is
`is_transient`). A call that failed was rolled back, so running it again is safe for
every method whose effect does not depend on how often it runs (upserts, updates to
given values, reads). A few can differ in the rare case where the server committed a
call but the connection broke before the answer arrived: `claim_run` (the run is
claimed by a worker that does not know it: `QueueWorker` hands such runs back at its
next heartbeat), `append_logs` (lines stored twice), `save_flow` and `save_script` (one
more, identical version) and `create_run` without `exist_ok` (BadInput: the run exists).

The wait blocks the calling thread, as the Store is synchronous: a worker's event loop
stands still while the database is away (there is nothing it could record anyway;
scripts already started keep running and their output waits in their pipes).
SQLite never retries: its busy timeout already waits for locks.

A caller that would rather fail fast than wait (a web page, whose user is waiting)
narrows the budget for the calls it makes with `retrying_for(seconds)`; such a call
giving up does not make the process's other calls give up too.

`Database.fence`, when set, is called before every attempt of an outermost call; a
worker uses it to refuse the calls of a run it may have lost while it could not
heartbeat (see engine/worker.py).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError

log = logging.getLogger("millrace.store")

RETRY_ENV = "MILLRACE_DB_RETRY_SECONDS"
DEFAULT_RETRY_SECONDS = 30.0
FIRST_DELAY = 0.05
MAX_DELAY = 2.0
# SQLSTATEs that say "try again later": connection exceptions (class 08), the server
# shutting down or starting (57P01-57P03), too many connections, and the two
# transaction rollbacks a whole-call retry resolves (serialization failure, deadlock).
_TRANSIENT_CLASSES = ("08",)
_TRANSIENT_STATES = frozenset({"57P01", "57P02", "57P03", "53300", "40001", "40P01"})

F = TypeVar("F", bound=Callable[..., Any])
_inside = contextvars.ContextVar("millrace_store_call", default=False)
_narrowed: contextvars.ContextVar[float | None] = contextvars.ContextVar("millrace_store_retry_for", default=None)


@contextlib.contextmanager
def retrying_for(seconds: float) -> Iterator[None]:
    """Within the block (this context only), Store calls retry for at most `seconds`."""
    token = _narrowed.set(max(0.0, seconds))
    try:
        yield
    finally:
        _narrowed.reset(token)


def default_retry_seconds() -> float:
    """How long a PostgreSQL store keeps retrying: MILLRACE_DB_RETRY_SECONDS, else 30."""
    text = os.environ.get(RETRY_ENV, "").strip()
    if not text:
        return DEFAULT_RETRY_SECONDS
    try:
        return max(0.0, float(text))
    except ValueError:
        raise ValueError(f"{RETRY_ENV} must be a number of seconds, not {text!r}") from None


def is_transient(error: BaseException) -> bool:
    """Whether a database error says the database is away for now, not that the call is wrong.

    True for a lost or refused PostgreSQL connection and for the server shutting down
    or starting up. SQLite errors are never transient here.
    """
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    original = error.orig
    if type(original).__module__.split(".")[0] != "psycopg":
        return False
    state = getattr(original, "sqlstate", None)
    if state is None:
        # No SQLSTATE: the client itself failed to connect or lost the connection.
        return isinstance(original, _psycopg_operational_error())
    return state.startswith(_TRANSIENT_CLASSES) or state in _TRANSIENT_STATES


def _psycopg_operational_error() -> type[BaseException]:
    import psycopg

    return psycopg.OperationalError


def retried(method: F) -> F:
    """Make a Store method retry as a whole while the database is away.

    Calls made from inside another Store method are not retried on their own: the
    outermost call is, so a transaction is never half redone.
    """

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _inside.get():
            return method(self, *args, **kwargs)
        token = _inside.set(True)
        try:
            return _with_retries(self.db, method, self, args, kwargs)
        finally:
            _inside.reset(token)

    return call  # type: ignore[return-value]


def _with_retries(db: Any, method: Callable[..., Any], store: Any, args: tuple, kwargs: dict) -> Any:
    # Once a call has given up, the next ones try once each until one gets through:
    # a long outage costs one wait of `retry_for`, not one per call.
    narrowed = _narrowed.get()
    budget = 0.0 if db.gave_up else db.retry_for
    if narrowed is not None:
        budget = min(budget, narrowed)
    started, delay, failures = time.monotonic(), FIRST_DELAY, 0
    while True:
        try:
            if db.fence is not None:
                db.fence()
            result = method(store, *args, **kwargs)
        except DBAPIError as error:
            if not is_transient(error):
                raise
            if time.monotonic() - started + delay > budget:
                if budget:
                    log.warning("database still unavailable after %.1f s; %s gives up",
                                time.monotonic() - started, method.__name__)
                if narrowed is None:
                    db.gave_up = True
                raise
            if failures == 0:
                log.warning("database unavailable (%s); retrying %s for up to %g s",
                            _first_line(error), method.__name__, budget)
            failures += 1
            time.sleep(delay)
            delay = min(delay * 2, MAX_DELAY)
            continue
        if failures or db.gave_up:
            log.warning("database reachable again; %s went through after %.1f s",
                        method.__name__, time.monotonic() - started)
            db.gave_up = False
        return result


def _first_line(error: DBAPIError) -> str:
    text = str(error.orig).strip() or type(error.orig).__name__
    return text.splitlines()[0]


def retry_public_methods(cls: type) -> type:
    """Wrap every public method `cls` defines or inherits with `retried` (not open/close)."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        for name, member in vars(klass).items():
            if name in seen or name.startswith("_") or name in ("open", "close"):
                continue
            seen.add(name)
            if inspect.isfunction(member):  # not properties, classmethods, staticmethods
                setattr(cls, name, retried(member))
    return cls
