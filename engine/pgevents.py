"""Events across processes: PostgreSQL LISTEN/NOTIFY joins the EventBus of every process.

Scaled out, a run's steps execute in a worker process while the page that watches it is
served by an app process, maybe on another machine. An `EventRelay` in each process
joins their buses through the PostgreSQL database they share:

- every event published on the local bus is NOTIFY'd on one channel by a background
  thread, in batches, on a connection of its own. `publish` only appends the event to a
  bounded queue, so a run never waits for PostgreSQL and never fails because of it; while
  PostgreSQL is away the events wait (the oldest are dropped when the queue is full).
- another thread LISTENs on its own connection and republishes the other processes'
  events on the local bus (a process's own events come back too and are skipped by their
  origin). It reconnects when the connection drops, e.g. when PostgreSQL restarts; what
  was notified while it was away is not replayed, the store still has it.

A NOTIFY payload must stay under 8000 bytes: `engine.event_payload` slims bigger events,
and the listener reads what was left out back from the store (see there).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import uuid
from collections import deque
from typing import Any

from engine.errors import BadInput
from engine.event_payload import own_prefix, pack, unpack
from engine.events import Event, EventBus

log = logging.getLogger("millrace.events")

CHANNEL = "millrace_events"
QUEUE_SIZE = 10_000
"""Events waiting to be sent; when full (PostgreSQL away a long time) the oldest go."""
BATCH_SIZE = 500
"""Events sent in one round trip (one statement, one transaction), several to a NOTIFY."""
LINGER_SECONDS = 0.005
"""How long the sender lets a burst of events gather before it sends them together."""
RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
"""Seconds between attempts to reach PostgreSQL again, the last one repeated."""
LISTEN_POLL_SECONDS = 0.5
"""How often the listener looks up from waiting, to notice `close()`."""
# Detect a peer that vanished without closing the connection (a listener would wait forever).
_KEEPALIVE = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
              "connect_timeout": 5}


class EventRelay:
    """Relays a bus's events to every other process on the same PostgreSQL, and theirs to it.

    Args:
        bus: the local EventBus (the Engine's `events`).
        store: the PostgreSQL Store whose database carries the notifications; slimmed
            events are completed from it.
        channel: the NOTIFY channel; every process of one deployment uses the same.

    Raises:
        BadInput: the store is not on PostgreSQL.
    """

    def __init__(self, bus: EventBus, store: Any, *, channel: str = CHANNEL):
        if store.dialect != "postgresql":
            raise BadInput(f"events cross processes only through PostgreSQL, not {store.dialect}")
        self.bus, self.store, self.channel = bus, store, channel
        self.origin = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        dsn = conninfo(store.url)
        self._notifier = _Notifier(dsn, channel, self.origin)
        self._listener = _Listener(dsn, channel, self.origin, self._complete)
        self._local = threading.local()  # set while a remote event is republished here
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def for_engine(cls, engine: Any) -> "EventRelay | None":
        """A relay for an Engine's bus and store, or None when the store is not PostgreSQL.

        What a slimmed event left out is read back from the store as operators see it
        (secrets masked), as the sender masked the rest.
        """
        if engine.store.dialect != "postgresql":
            return None
        return cls(engine.events, engine.shown_store)

    @property
    def sent(self) -> int:
        """Events notified so far."""
        return self._notifier.sent

    @property
    def dropped(self) -> int:
        """Events not notified: the queue overflowed, an event could not be encoded, or the
        relay was closed while PostgreSQL was away."""
        return self._notifier.dropped

    @property
    def received(self) -> int:
        """Other processes' events republished on the local bus."""
        return self._listener.received

    @property
    def connects(self) -> int:
        """How many times the listener has (re)started listening."""
        return self._listener.connects

    def start(self) -> None:
        """Start relaying; call it from the event loop that owns the bus."""
        self._loop = asyncio.get_running_loop()
        self._listener.start()
        self._notifier.start()
        self.bus.add_listener(self._forward)

    async def close(self) -> None:
        """Stop relaying, after sending what is queued (briefly, if PostgreSQL is away)."""
        self.bus.remove_listener(self._forward)
        await asyncio.to_thread(self._stop_threads)

    def _stop_threads(self) -> None:
        self._notifier.stop()
        self._listener.stop()

    async def __aenter__(self) -> "EventRelay":
        self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def wait_listening(self, timeout: float) -> bool:
        """Block until the listener listens (after a start or a reconnect); False on timeout."""
        return self._listener.listening.wait(timeout)

    def flush(self, timeout: float) -> bool:
        """Block until every event published so far has been sent (or dropped); False on timeout."""
        return self._notifier.flush(timeout)

    def _forward(self, event: Event) -> None:
        # Runs inside EventBus.publish, on the run's path: queue it and return.
        if not getattr(self._local, "relaying", False):
            self._notifier.put(event)

    def _complete(self, entries: list[tuple[Event, list[str], list[str]]]) -> None:
        """On the listener thread: fill in what was left out, then hand over to the loop."""
        events = [_completed(self.store, event, ref, cut) for event, ref, cut in entries]
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._republish, events)

    def _republish(self, events: list[Event]) -> None:
        self._local.relaying = True
        try:
            for event in events:
                self.bus.publish(event)
        finally:
            self._local.relaying = False


def conninfo(url: str) -> str:
    """A libpq connection string from the store's SQLAlchemy URL (`postgresql+psycopg://`)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _notify_query(count: int) -> str:
    # One statement, so one round trip and one transaction. Payloads go as separate
    # parameters: as a text[] psycopg would escape every quote of the JSON in Python.
    return "SELECT " + ", ".join(f"pg_notify(%(channel)s, %(p{n})s)" for n in range(count))


def _delay(attempt: int) -> float:
    return RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)]


def _completed(store: Any, event: Event, ref: list[str], cut: list[str]) -> Event:
    """The event with what was left out read back from the store, and what is missing named."""
    truncated = list(cut)
    if ref:
        found = _read_back(store, event)
        for name in ref:
            if name in found:
                event.data[name] = found[name]
            else:
                event.data[name] = "[too big to relay, and not found in the store]"
                truncated.append(name)
    if truncated:
        event.data["truncated"] = truncated
    return event


def _read_back(store: Any, event: Event) -> dict[str, Any]:
    """The values a slimmed event left out, as the store has them ({} if it cannot say)."""
    try:
        if event.kind == "step_finished" and event.key is not None:
            row = store.load_step(event.run_id, event.key)
            return {} if row is None else {"result": row.result, "error": row.error}
        run = store.get_run(event.run_id)
        return {} if run is None else {"result": run.result, "error": run.error, "args": run.args}
    except Exception:  # the store is unreachable: the event still arrives, marked
        log.warning("could not read back a %s event of run %s from the store", event.kind, event.run_id,
                    exc_info=True)
        return {}


# ---- the two threads ---------------------------------------------------------------------------

class _Notifier:
    """Sends queued events as NOTIFYs from a background thread, a batch per round trip."""

    def __init__(self, dsn: str, channel: str, origin: str):
        self.dsn, self.channel, self.origin = dsn, channel, origin
        self.sent = self.dropped = 0
        self._pending: deque[Event] = deque()
        self._queued = self._done = self._seq = 0
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._conn: Any = None
        self._thread = threading.Thread(target=self._run, name="millrace-notify", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, event: Event) -> None:
        with self._cond:
            if len(self._pending) >= QUEUE_SIZE:
                self._pending.popleft()
                self.dropped += 1
                self._done += 1
            self._pending.append(event)
            self._queued += 1
            self._cond.notify()

    def flush(self, timeout: float) -> bool:
        with self._cond:
            target = self._queued
            return self._cond.wait_for(lambda: self._done >= target, timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._close()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._stopping.is_set())
                if not self._pending:
                    return
            self._stopping.wait(LINGER_SECONDS)
            with self._cond:
                batch = [self._pending.popleft() for _ in range(min(BATCH_SIZE, len(self._pending)))]
            payloads, carried = self._pack(batch)
            sent = carried if self._send(payloads) else 0
            with self._cond:
                self.sent += sent
                self.dropped += len(batch) - sent
                self._done += len(batch)
                self._cond.notify_all()

    def _pack(self, batch: list[Event]) -> tuple[list[str], int]:
        """The batch's payloads, and how many of its events they carry."""
        try:
            payloads, unfit = pack(batch, self.origin, self._seq)
        except Exception:  # a value that cannot be serialised (a cycle...): the others still go
            payloads, unfit = [], 0
            for event in batch:
                try:
                    one, bad = pack([event], self.origin, self._seq + len(payloads))
                except Exception:
                    one, bad = [], 1
                payloads, unfit = payloads + one, unfit + bad
        if unfit:
            log.warning("dropped %d event(s) that cannot be relayed", unfit)
        self._seq += len(payloads)
        return payloads, len(batch) - unfit

    def _send(self, payloads: list[str]) -> bool:
        """Send, retrying while PostgreSQL is away; False when stopped first."""
        import psycopg

        if not payloads:
            return True
        attempt = 0
        while True:
            try:
                if self._conn is None:
                    self._conn = psycopg.connect(self.dsn, autocommit=True, **_KEEPALIVE)
                self._conn.execute(_notify_query(len(payloads)), {"channel": self.channel, **{
                    f"p{n}": payload for n, payload in enumerate(payloads)}})
                return True
            except psycopg.Error as exc:
                self._close()
                if attempt == 0:
                    log.warning("cannot notify events (%s); retrying", exc)
                if self._stopping.wait(_delay(attempt)):
                    return False
                attempt += 1

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # already broken: nothing left to release
                pass


class _Listener:
    """LISTENs on its own connection; hands every other process's event to `deliver`."""

    def __init__(self, dsn: str, channel: str, origin: str, deliver: Any):
        self.dsn, self.channel, self.origin, self.deliver = dsn, channel, origin, deliver
        self._own_prefix = own_prefix(origin)
        self.received = self.connects = 0
        self.listening = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="millrace-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        import psycopg

        attempt = 0
        while not self._stopping.is_set():
            connects = self.connects
            try:
                self._listen()
                return
            except psycopg.Error as exc:
                self.listening.clear()
                log.warning("event listener lost PostgreSQL (%s); reconnecting", exc)
            attempt = 0 if self.connects != connects else attempt + 1  # back off only while it fails
            if self._stopping.wait(_delay(attempt)):
                return

    def _listen(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.dsn, autocommit=True, **_KEEPALIVE) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self.connects += 1
            self.listening.set()
            while not self._stopping.is_set():
                for note in conn.notifies(timeout=LISTEN_POLL_SECONDS):
                    self._handle(note.payload)
        self.listening.clear()

    def _handle(self, payload: str) -> None:
        if payload.startswith(self._own_prefix):  # this process's own event: skip it unparsed
            return
        try:
            origin, entries = unpack(payload)
            if origin == self.origin:
                return
            self.received += len(entries)
            self.deliver(entries)
        except Exception:  # one bad notification must not stop the listener
            log.exception("could not relay a notification")
