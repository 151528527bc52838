"""Blocking work of the web handlers, run off the web server's event loop.

One event loop serves every page event and REST request of this process: a call that
blocks it (a database round trip; a store call retrying while PostgreSQL is away)
stalls every page at once. So:

- `off_loop(fn, *args, **kwargs)` is the one way a web handler (a page's event, the
  event guard, a REST endpoint) reaches the store, the accounts or anything else that
  blocks: `fn` runs on a thread of a pool kept for it while the loop serves others.
  While the database is away, a page's store calls (the event guard marks them,
  `serving_a_page`) retry only `PAGE_RETRY_SECONDS`, then fail with
  `DatabaseUnavailable`: its user is told at once to try again. REST calls wait for the
  database as the engine does (`MILLRACE_DB_RETRY_SECONDS`), so a script calling the
  API rides out a restart; they have a pool of their own, so waiting ones never hold
  up a page.
- `forbid_on_loop(engine)` makes every SQL statement sent from the web loop fail with
  `BlockingOnLoop`, in use as in tests: a handler that forgot `off_loop` fails at once
  (and its test with it) instead of stalling everyone now and then.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

log = logging.getLogger("millrace.app")

PAGE_RETRY_SECONDS = 1.0
"""How long a page's store call waits for a database that is away."""
T = TypeVar("T")
_page_pool = ThreadPoolExecutor(8, thread_name_prefix="millrace-page-io")
_rest_pool = ThreadPoolExecutor(16, thread_name_prefix="millrace-rest-io")
_web_loop: asyncio.AbstractEventLoop | None = None
_for_a_page: contextvars.ContextVar[bool] = contextvars.ContextVar("millrace_for_a_page", default=False)


class BlockingOnLoop(RuntimeError):
    """A database call was made on the web server's event loop (a handler forgot `off_loop`)."""


class DatabaseUnavailable(RuntimeError):
    """The database did not answer a web handler's call in time (PostgreSQL away)."""


def mark_web_loop() -> None:
    """Remember the running loop as the web server's (call it from a lifespan task)."""
    global _web_loop
    _web_loop = asyncio.get_running_loop()


def on_web_loop() -> bool:
    """Whether the calling thread is running the web server's event loop now."""
    return _web_loop is not None and asyncio._get_running_loop() is _web_loop


def serving_a_page() -> None:
    """Mark the work of the page event being handled (this context): its store calls
    fail soon while the database is away, rather than keep the page waiting."""
    _for_a_page.set(True)


async def off_loop(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` run on a pool thread, in a copy of this context (so
    `caller()` still says whom the event acts for).

    Raises:
        DatabaseUnavailable: the database is away (the message says to try again).
    """
    page = _for_a_page.get()
    context = contextvars.copy_context()
    call = functools.partial(context.run, _unless_away, fn, args, kwargs, PAGE_RETRY_SECONDS if page else None)
    return await asyncio.get_running_loop().run_in_executor(_page_pool if page else _rest_pool, call)


async def when_available(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T | None:
    """`off_loop(fn, ...)`, or None while the database is away: for the loops that follow
    a run, which simply look again at their next turn."""
    try:
        return await off_loop(fn, *args, **kwargs)
    except DatabaseUnavailable:
        return None


def _unless_away(fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any], retry_for: float | None) -> T:
    from engine import is_transient, retrying_for

    try:
        if retry_for is None:
            return fn(*args, **kwargs)
        with retrying_for(retry_for):
            return fn(*args, **kwargs)
    except Exception as error:
        if is_transient(error):
            raise DatabaseUnavailable("the database is unavailable right now; try again in a moment") from error
        raise


def forbid_on_loop(engine: Any) -> None:
    """Refuse every statement a SQLAlchemy engine would send from the web loop's thread."""
    from sqlalchemy import event

    if not event.contains(engine, "before_cursor_execute", _refuse_on_loop):
        event.listen(engine, "before_cursor_execute", _refuse_on_loop)


def _refuse_on_loop(*_: Any) -> None:
    if on_web_loop():
        log.error("a database call on the web server's event loop was refused", stack_info=True)
        raise BlockingOnLoop("a database call was made on the web server's event loop, where it would stall "
                             "every page: run it with `await off_loop(...)` (app/services/offloop.py)")
