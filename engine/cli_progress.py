"""What the CLI shows on stderr while a flow runs: JSON event lines (--events) and,
when stderr is a terminal, a readable live progress display."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable, TextIO

from engine.events import Event, EventBus

MARKS = {"success": "\u2713", "failure": "\u2717", "skipped": "\u2192"}


def attach_display(bus: EventBus, *, events: bool, quiet: bool, stream: TextIO | None = None) -> Callable[[], None]:
    """Subscribe the chosen displays to the bus; returns a function that detaches them."""
    stream = stream or sys.stderr
    listeners: list[Callable[[Event], None]] = []
    if events:
        listeners.append(lambda event: _write_json(stream, event))
    elif not quiet and stream.isatty():
        listeners.append(Progress(stream).on_event)
    for listener in listeners:
        bus.add_listener(listener)

    def detach() -> None:
        for listener in listeners:
            bus.remove_listener(listener)

    return detach


def _write_json(stream: TextIO, event: Event) -> None:
    stream.write(json.dumps(event.to_dict(), default=str) + "\n")
    stream.flush()


class Progress:
    """One line per step as it starts and ends, log lines indented under it."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def on_event(self, event: Event) -> None:
        line = self.describe(event)
        if line is not None:
            self.stream.write(line + "\n")
            self.stream.flush()

    def describe(self, event: Event) -> str | None:
        label = _label(event)
        data: dict[str, Any] = event.data
        if event.kind == "run_started":
            return f"\u25b6 run {event.run_id}"
        if event.kind == "step_started":
            attempt = data.get("attempt") or 0
            return f"  \u2026 {label}" + (f" (retry {attempt})" if attempt else "")
        if event.kind == "step_log":
            return f"      {data.get('line', '')}"
        if event.kind == "step_retrying":
            return f"  \u21bb {label} failed, retrying in {data.get('delay', 0):g} s"
        if event.kind == "step_finished":
            mark = MARKS.get(data.get("status", ""), "?")
            ms = round(1000 * float(data.get("duration") or 0))
            tail = f"  {(data.get('error') or {}).get('message', '')}" if data.get("status") == "failure" else ""
            return f"  {mark} {label}  {ms} ms{tail}"
        if event.kind == "run_suspended":
            return f"  \u23f8 {label} waits for {data.get('required')} approval(s)"
        if event.kind == "run_finished":
            return f"{MARKS.get(data.get('status', ''), '?')} run {event.run_id} {data.get('status')}"
        return None


def _label(event: Event) -> str:
    label = event.key or event.step_id or ""
    return label
