"""The run's journal: one record per step position, saved after every change.

A step's position ("key") is its id, prefixed by the loop iterations it sits in
(`loop/3/b`). On restart the journal is read back, level by level and a page of loop
iterations at a time, and finished records are replayed instead of run again; this is
what makes a killed run resume where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

DONE = frozenset({"success", "failure", "skipped"})
ARGS_LIMIT = 64_000
"""Bytes of JSON above which a step's args are kept by name only (the run page shows them)."""


@dataclass
class Record:
    """What the journal knows of one step position."""

    step_id: str
    status: str = "running"
    result: Any = None
    error: dict[str, Any] | None = None
    attempts: int = 0
    iteration: int | None = None
    started_at: float | None = None
    finished_at: float | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.status in DONE


class Journal:
    """The part of a run's journal in use, written through to the store.

    Only what the run is at is held: the records of the level it walks (the flow's top
    level, or one loop iteration) and the page of iterations a loop reads ahead
    (`engine.executor.iterations`). Records come in with `load_keys` and go with
    `release` once their iteration is done, so memory stays flat however long a loop
    runs; every record is in the store before the step after it starts.
    """

    def __init__(self, store: Any, run_id: str):
        self.store, self.run_id = store, run_id
        self.records: dict[str, Record] = {}

    def load_keys(self, keys: Iterable[str]) -> list[str]:
        """Read the records at these keys back from the store; returns the keys found."""
        keys = list(keys)
        if not keys:
            return []
        found = self.store.load_steps_at(self.run_id, keys)
        for key, row in found.items():
            self.records[key] = _record(row)
        return list(found)

    def release(self, keys: Iterable[str]) -> None:
        """Let go of records no longer needed in memory (they stay in the store)."""
        for key in keys:
            self.records.pop(key, None)

    def release_under(self, prefix: str) -> None:
        """Let go of every record held below a loop (e.g. iterations read ahead, never run)."""
        for key in [k for k in self.records if k.startswith(prefix)]:
            del self.records[key]

    def get(self, key: str) -> Record | None:
        return self.records.get(key)

    def save(self, key: str, record: Record) -> None:
        """Store the record (insert or replace) and keep it in memory."""
        self.records[key] = record
        self.store.save_step(
            self.run_id,
            key,
            step_id=record.step_id,
            status=record.status,
            result=record.result,
            error=record.error,
            attempts=record.attempts,
            iteration=record.iteration,
            started_at=record.started_at,
            finished_at=record.finished_at,
            data=record.data,
        )

    def note_args(self, key: str, args: dict[str, Any]) -> None:
        """Keep the args a step runs with on its record (saved with its outcome), so its
        run's page can show them; big ones by name and size only."""
        record = self.records.get(key)
        if record is not None:
            record.data["args"] = kept_args(args)

    def refresh(self, key: str) -> Record | None:
        """Re-read one record from the store (another process may have written it)."""
        row = self.store.load_step(self.run_id, key)
        if row is None:
            return None
        record = self.records.get(key) or Record(step_id=row.step_id)
        record.status, record.result, record.error = row.status, row.result, row.error
        record.data = dict(row.data or {})
        self.records[key] = record
        return record

    def forget_under(self, prefix: str) -> None:
        """Drop every record below a loop or branch, so a retried loop runs afresh."""
        self.release_under(prefix)
        self.store.delete_steps(self.run_id, keys_prefix=prefix)


def kept_args(args: dict[str, Any]) -> dict[str, Any]:
    """The args as a record keeps them: whole, or each over ARGS_LIMIT by its size only."""
    if sum(_most_bytes(value) for value in args.values()) <= ARGS_LIMIT:
        return dict(args)  # plain small values: no need to encode them to know
    sizes = {name: len(json.dumps(value, default=str)) for name, value in args.items()}
    if sum(sizes.values()) <= ARGS_LIMIT:
        return dict(args)
    return {name: value if sizes[name] <= ARGS_LIMIT // max(len(args), 1) else f"… {sizes[name]:,} bytes, not kept"
            for name, value in args.items()}


def _most_bytes(value: Any) -> int:
    """No less than the length of the value's JSON: a small number's, a short string's (12
    bytes a character at worst, a surrogate pair's escapes), or more than the limit for
    anything else (which is then measured)."""
    if value is None or isinstance(value, (bool, float)) or (isinstance(value, int) and abs(value) < 10**20):
        return 32
    if isinstance(value, str) and len(value) < ARGS_LIMIT // 12:
        return 12 * len(value) + 2
    return ARGS_LIMIT + 1


def _record(row: Any) -> Record:
    return Record(
        step_id=row.step_id,
        status=row.status,
        result=row.result,
        error=row.error,
        attempts=row.attempts or 0,
        iteration=row.iteration,
        started_at=row.started_at,
        finished_at=row.finished_at,
        data=dict(row.data or {}),
    )
