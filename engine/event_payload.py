"""An event as a NOTIFY payload: JSON under PostgreSQL's 8000-byte limit, never silently wrong.

A bigger event travels slimmed. A step's or a run's result, error or args are left out
(listed under "ref"): the receiver reads them back from the store, where the executor
journals them before it publishes. Other big values (a long log line, a retry's error)
are cut, with a marker in the value saying how long it was, and listed under "cut": the
receiver names them in the event's `data["truncated"]`.
"""

from __future__ import annotations

import json
from typing import Any

from engine.events import Event

MAX_PAYLOAD_BYTES = 7900
"""PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; the rest is headroom."""
FROM_STORE = frozenset({
    ("step_finished", "result"), ("step_finished", "error"),
    ("run_finished", "result"), ("run_finished", "error"), ("run_started", "args"),
})
"""(event kind, data field): what a receiver can read back from the store."""


def encode(event: Event, origin: str, seq: int = 0) -> str | None:
    """The NOTIFY payload of an event, under MAX_PAYLOAD_BYTES; None if it cannot fit.

    `seq` keeps equal events apart: PostgreSQL delivers identical payloads sent in one
    transaction only once.
    """
    body = event.to_dict()
    envelope: dict[str, Any] = {"o": origin, "n": seq, "e": body}
    text = _dumps(envelope)
    if _size(text) <= MAX_PAYLOAD_BYTES:
        return text
    whole = dict(body.get("data") or {})
    data = body["data"] = dict(whole)
    ref: list[str] = envelope.setdefault("ref", [])
    cut: list[str] = envelope.setdefault("cut", [])
    for name in sorted(whole, key=lambda key: _size(_dumps(whole[key])), reverse=True):
        if (event.kind, name) in FROM_STORE:
            del data[name]
            ref.append(name)
        else:
            data[name] = ""
            cut.append(name)
            data[name] = shrink(whole[name], MAX_PAYLOAD_BYTES - _size(_dumps(envelope)) + 2)
        text = _dumps(envelope)
        if _size(text) <= MAX_PAYLOAD_BYTES:
            return text
    return None


def decode(payload: str) -> tuple[str, Event, list[str], list[str]]:
    """(origin, event, names to read back from the store, names that were cut) of a payload."""
    envelope = json.loads(payload)
    event = Event(**envelope["e"])
    return envelope["o"], event, list(envelope.get("ref") or []), list(envelope.get("cut") or [])


def shrink(value: Any, room: int) -> Any:
    """`value`, or a cut-down copy of it, whose JSON takes at most `room` bytes.

    Objects keep their shape (their biggest members are cut first); text is cut with a
    marker that says how long it was; anything else becomes the start of its JSON text,
    with the marker.
    """
    if _size(_dumps(value)) <= room:
        return value
    if isinstance(value, dict):
        out = dict(value)
        for key in sorted(value, key=lambda k: _size(_dumps(value[k])), reverse=True):
            out[key] = ""
            out[key] = shrink(value[key], room - _size(_dumps(out)) + 2)
            if _size(_dumps(out)) <= room:
                return out
    return _cut_text(value if isinstance(value, str) else _dumps(value), room)


def _cut_text(text: str, room: int) -> str:
    raw = text.encode()
    marker = f" … [cut: {len(raw)} bytes in all]"
    keep = room - _size(_dumps(marker))
    while keep > 0:
        candidate = raw[:keep].decode(errors="ignore") + marker
        over = _size(_dumps(candidate)) - room
        if over <= 0:
            return candidate
        keep -= max(over, keep // 4)  # escapes (quotes, control characters) took the room
    return marker.strip() if _size(_dumps(marker.strip())) <= room else ""


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _size(text: str) -> int:
    return len(text.encode())
