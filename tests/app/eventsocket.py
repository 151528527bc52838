"""The app's event websocket spoken by hand, as a script rather than a browser would.

Engine.IO v4 over a plain websocket: the server opens with `0{...}`, pings with `2`
(answered `3`); Socket.IO packets ride in messages: `40/_event,` joins the namespace,
`42/_event,["event", {...}]` carries an event either way. Reflex sends state updates
as `{"delta": {...}, "events": [...]}` in the "event" packets.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Callable

import simple_websocket

NAMESPACE = "/_event"
SESSION_COOKIE = "millrace_session"
SET_QUERY = "reflex___state____state.app___states___flows____flows_state.set_query"
"""An event of the flows page whose answer carries the value sent (for timing round trips)."""


class EventSocket:
    """One connection under one client token, with or without a session cookie."""

    def __init__(self, url: str, token: str | None = None, session: str | None = None,
                 origin: str | None = None):
        self.token = token or str(uuid.uuid4())
        self.received: list[str] = []
        base = url.replace("http://", "ws://").replace("localhost", "127.0.0.1")
        headers = {}
        if session is not None:
            headers["Cookie"] = f"{SESSION_COOKIE}={session}"
        if origin is not None:
            headers["Origin"] = origin
        self.ws = simple_websocket.Client.connect(
            f"{base}{NAMESPACE}/?EIO=4&transport=websocket&token={self.token}", headers=headers)
        # Join at once rather than wait for the server's opening packet: simple_websocket
        # leaves a frame that came with the handshake answer unread until more data comes.
        self.ws.send(f"40{NAMESPACE},")
        self.wait_until(lambda: any(text.startswith(f"40{NAMESPACE},") for text in self.received), 10,
                        "the namespace to connect")

    def send(self, name: str, payload: dict[str, Any] | None = None, page: str = "/") -> None:
        """Send event `name` (full handler name) as if from the page at `page`."""
        event = {"name": name, "payload": payload or {}, "router_data": {"pathname": page.split("?")[0],
                                                                          "asPath": page}}
        self.ws.send(f"42{NAMESPACE}," + json.dumps(["event", event]))

    def round_trip(self, timeout: float, instead: str | None = None) -> str:
        """Send a page event whose answer carries a value of its own, and read until that
        answer (or a message holding `instead`) comes; returns that message.
        AssertionError after `timeout`."""
        marker = uuid.uuid4().hex
        self.received.clear()
        self.send(SET_QUERY, {"value": marker}, page="/flows")
        wanted = [marker] + ([instead] if instead else [])
        self.wait_until(lambda: any(w in text for text in self.received for w in wanted), timeout,
                        "the event's answer")
        return next(text for text in self.received if any(w in text for w in wanted))

    def wait_for(self, matches: Callable[[str], bool], timeout: float, what: str) -> str:
        """Read messages until one `matches`; it is returned, all are kept in `received`."""
        self.wait_until(lambda: bool(self.received) and matches(self.received[-1]), timeout, what)
        return self.received[-1]

    def wait_until(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        """Read messages (into `received`) until `done()` holds."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout:.0f} s for {what}; last messages: {self.received[-3:]}")
            self._read(min(0.5, max(0.01, deadline - time.monotonic())))

    def drain(self, seconds: float) -> None:
        """Keep reading for `seconds` (what arrives goes into `received`)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._read(max(0.01, deadline - time.monotonic()))

    def _read(self, timeout: float) -> None:
        text = self.ws.receive(timeout=timeout)
        if text == "2":
            self.ws.send("3")
        elif text is not None:
            self.received.append(text)

    def count(self, matches: Callable[[str], bool]) -> int:
        """How many messages received so far match."""
        return sum(1 for text in self.received if matches(text))

    def text(self) -> str:
        return "\n".join(self.received)

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> EventSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def redirects_to_login(text: str) -> bool:
    return '"_redirect"' in text and "/login" in text


def refused_as_operator(text: str) -> bool:
    return "Only admins may" in text
