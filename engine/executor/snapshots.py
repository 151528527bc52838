"""What is made from a flow snapshot (parsed models, a dump), made once per snapshot.

Every run of a flow carries the same snapshot, and parsing it into models (or dumping
it back) costs about 20 µs a step, each run: a 40-step flow spent more on that than on
running its steps' engine side. Snapshots are kept by their JSON text, so a changed
flow is a new entry; what is kept is never changed by its users.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any, Callable

KEPT = 64
"""Snapshots kept per cache, the most recently used."""


class SnapshotCache:
    """`made = cache.get(snapshot, make)`: `make()` once per distinct JSON snapshot."""

    def __init__(self, kept: int = KEPT):
        self._kept = kept
        self._made: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, snapshot: Any, make: Callable[[], Any]) -> Any:
        key = json.dumps(snapshot, separators=(",", ":"), default=repr)
        with self._lock:
            if key in self._made:
                self._made.move_to_end(key)
                return self._made[key]
        made = make()  # outside the lock: two threads may both make it, either is right
        with self._lock:
            self._made[key] = made
            while len(self._made) > self._kept:
                self._made.popitem(last=False)
        return made
