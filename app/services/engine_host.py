"""The thread the app's engine runs on, with an event loop of its own.

Flows (the executor, its store calls, its expressions) and the scheduler run here,
never on the web server's loop: whatever a flow does, pages and REST keep answering.
The two loops meet in three places only, each thread-safe: `call_soon` (wake the
driver when a run is queued), the EventBus (a page's subscription is fed on the page's
loop, see engine/events.py) and the store (a database both sides use).

Python runs one thread at a time (the GIL): while a flow keeps the engine's thread
busy, the web loop's thread gets its turn at the next switch (`SWITCH_INTERVAL`).
QuickJS lets the GIL go while it evaluates, and scripts run in processes of their own.

The thread is the engine's supervisor too: when the hosted coroutine fails (an engine
bug), it is logged and started again after a pause; `stop` cancels it (the driver then
hands its runs back to the queue) and waits for the thread, bounded.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from typing import Any, Awaitable, Callable

log = logging.getLogger("millrace.app")

SWITCH_INTERVAL = 0.001
"""Seconds a thread may hold the GIL while another waits for it (Python's default: 0.005).
A flow that keeps the engine's thread busy makes the web loop's thread wait this long
each time it wants the GIL back, several times per request: shorter keeps pages fast."""
RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Seconds before starting the engine again after it failed, the last one repeated."""
STOP_SECONDS = 15.0


class EngineThread:
    """Runs `main()` on a thread of its own until `stop()`, restarting it when it fails.

    Args:
        main: the coroutine function to host (it runs until cancelled).
        name: the thread's name (it shows in thread dumps and logs).
    """

    def __init__(self, main: Callable[[], Awaitable[None]], *, name: str = "millrace-engine"):
        self._main = main
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._started = threading.Event()
        self._stopping = False
        self.restarts = 0
        """How many times `main` failed and was started again."""

    def start(self) -> None:
        """Start the thread; returns once its loop runs."""
        sys.setswitchinterval(SWITCH_INTERVAL)
        self._thread.start()
        self._started.wait()

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Call `fn(*args)` on the engine's loop, from any thread (dropped once stopped)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(fn, *args)
            except RuntimeError:
                pass  # closed meanwhile: the engine is gone

    async def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Cancel the hosted coroutine and wait (up to `timeout`) for the thread to end."""
        self._stopping = True
        if self._loop is not None and self._task is not None:
            self.call_soon(self._task.cancel)
        await asyncio.to_thread(self._thread.join, timeout)
        if self._thread.is_alive():
            log.warning("the engine thread did not stop within %g s (a step still holds it)", timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            asyncio.run(self._supervise())
        except asyncio.CancelledError:
            pass  # stopped while waiting to restart

    async def _supervise(self) -> None:
        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        self._started.set()
        while not self._stopping:
            try:
                await self._main()
                return
            except asyncio.CancelledError:
                return
            except Exception:
                log.exception("the engine failed; starting it again")
            delay = RESTART_DELAYS[min(self.restarts, len(RESTART_DELAYS) - 1)]
            self.restarts += 1
            await asyncio.sleep(delay)
