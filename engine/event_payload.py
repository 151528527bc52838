"""Events as NOTIFY payloads: JSON under PostgreSQL's 8000-byte limit, never silently wrong.

Small events travel several to a payload (fewer notifications to send and to receive).
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


def pack(events: list[Event], origin: str, seq: int = 0) -> tuple[list[str], int]:
    """NOTIFY payloads carrying `events` in order, several to a payload; and how many
    events could not be carried at all (their fixed fields alone are too big).

    `seq` numbers the payloads: PostgreSQL delivers identical payloads sent in one
    transaction only once.
    """
    payloads: list[str] = []
    items: list[str] = []
    room = MAX_PAYLOAD_BYTES - len(_envelope(origin, seq + len(events), []).encode())
    used, dropped = 0, 0
    for event in events:
        text = item(event, room)
        if text is None:
            dropped += 1
            continue
        size = _size(text) + 1  # and a comma
        if items and used + size > room:
            payloads.append(_envelope(origin, seq + len(payloads), items))
            items, used = [], 0
        items.append(text)
        used += size
    if items:
        payloads.append(_envelope(origin, seq + len(payloads), items))
    return payloads, dropped


def item(event: Event, room: int = MAX_PAYLOAD_BYTES) -> str | None:
    """One event as JSON of at most `room` bytes, slimmed if need be; None if it cannot fit."""
    body = _fields(event)
    text = _dumps({"e": body})
    if len(text) * 4 <= room or _size(text) <= room:  # UTF-8: 4 bytes a character at most
        return text
    whole = dict(body.get("data") or {})
    data = body["data"] = dict(whole)
    slimmed: dict[str, Any] = {"e": body, "ref": [], "cut": []}
    for name in sorted(whole, key=lambda key: _size(_dumps(whole[key])), reverse=True):
        if (event.kind, name) in FROM_STORE:
            del data[name]
            slimmed["ref"].append(name)
        else:
            data[name] = ""
            slimmed["cut"].append(name)
            data[name] = shrink(whole[name], room - _size(_dumps(slimmed)) + 2)
        text = _dumps(slimmed)
        if _size(text) <= room:
            return text
    return None


def own_prefix(origin: str) -> str:
    """How every payload `pack` makes for `origin` starts (to skip them without parsing)."""
    return '{"o":' + _dumps(origin) + ","


def unpack(payload: str) -> tuple[str, list[tuple[Event, list[str], list[str]]]]:
    """(origin, [(event, names to read back from the store, names that were cut), ...])."""
    envelope = json.loads(payload)
    return envelope["o"], [(Event(**entry["e"]), list(entry.get("ref") or []), list(entry.get("cut") or []))
                           for entry in envelope["es"]]


def _envelope(origin: str, seq: int, items: list[str]) -> str:
    return own_prefix(origin) + f'"n":{seq},"es":[' + ",".join(items) + "]}"


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


def _fields(event: Event) -> dict[str, Any]:
    """`event.to_dict()` without its deep copy (dataclasses.asdict), which cost more than the rest."""
    body: dict[str, Any] = {"kind": event.kind, "run_id": event.run_id, "ts": event.ts}
    for name in ("step_id", "key", "iteration"):
        value = getattr(event, name)
        if value is not None:
            body[name] = value
    body["data"] = event.data
    return body


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)
"""One encoder for every call: json.dumps with options builds a new one each time (slow)."""


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def _size(text: str) -> int:
    return len(text.encode())
