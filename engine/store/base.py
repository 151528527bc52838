"""What every part of the Store shares: the database, the clock, row conversion."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError

from engine.clock import Clock
from engine.store.db import Database
from engine.store.records import from_values

M = TypeVar("M")


class StoreBase:
    """State shared by the Store's parts (runs, journal, catalog, queue)."""

    db: Database
    clock: Clock

    def _now(self, now: float | None) -> float:
        return self.clock.now() if now is None else now


def to_model(model: type[M], row: Row[Any]) -> M:
    """The record (engine/store/records.py) of a result row."""
    return from_values(model, row._mapping)


def to_models(model: type[M], rows: Iterable[Row[Any]]) -> list[M]:
    """Build transient model instances from result rows."""
    return [to_model(model, row) for row in rows]


def check_status(status: str, allowed: type[StrEnum]) -> str:
    """The status as a plain string, or ValueError if `allowed` has no such value."""
    try:
        return allowed(status).value
    except ValueError:
        choices = ", ".join(member.value for member in allowed)
        raise ValueError(f"unknown status {status!r}; expected one of: {choices}") from None


def check_fields(fields: Iterable[str], columns: Iterable[str], what: str) -> None:
    """Raise TypeError naming any field that is not one of `columns`."""
    unknown = sorted(set(fields) - set(columns))
    if unknown:
        raise TypeError(f"{what} has no field(s) {', '.join(unknown)}")


def is_foreign_key_violation(error: IntegrityError) -> bool:
    """Whether an integrity error says a referenced row (e.g. the run) is missing."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate == "23503" or "FOREIGN KEY constraint failed" in str(error.orig)
