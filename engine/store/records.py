"""Declaring a table once: a plain record class whose annotated fields make its Core table.

`@record("runs", Index(...))` over a class of annotated fields makes it a keyword-only
dataclass (compared by value) and gives it `__table__`, a SQLAlchemy Core `Table` in
`METADATA`. The store queries those tables and returns records; nothing here needs the
ORM, which a short process (the CLI) would otherwise spend a tenth of a second importing.

A field's column follows its annotation: `str`, `int`, `float`, `bool`, `Optional[...]`
for a nullable one; `column(...)` gives the SQL type, the key, or extra column arguments.
A default other than None is also the column's default, as the tables always had.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Boolean, Column, Float, Integer, MetaData, String, Table
from sqlalchemy.schema import SchemaItem

METADATA = MetaData()
"""Every engine table (the app's own tables are in SQLModel's metadata, app/models.py)."""

R = TypeVar("R")
_MISSING: Any = dataclasses.MISSING
_TYPES = {str: String, int: Integer, float: Float, bool: Boolean}


class _Spec(NamedTuple):
    type: Any = None
    primary_key: bool = False
    nullable: bool | None = None
    default: Any = _MISSING
    args: tuple[Any, ...] = ()
    autoincrement: Any = "auto"
    server_default: Any = None


def column(type_: Any = None, *args: Any, primary_key: bool = False, nullable: bool | None = None,
           default: Any = _MISSING, autoincrement: Any = "auto", server_default: Any = None) -> Any:
    """A field's column where its annotation does not say it all: the SQL type (needed
    for `Any`, which holds JSON), the primary key, a foreign key in `args`, the default
    rows already there get when the column is added (`server_default`)."""
    return _Spec(type_, primary_key, nullable, default, args, autoincrement, server_default)


def record(name: str, *extras: SchemaItem) -> Callable[[type[R]], type[R]]:
    """Make the decorated class a record of table `name` (indexes etc. in `extras`)."""

    def make(cls: type[R]) -> type[R]:
        hints = typing.get_type_hints(cls)
        columns = []
        for field in cls.__dict__.get("__annotations__", {}):
            spec = cls.__dict__.get(field, _MISSING)
            spec = spec if isinstance(spec, _Spec) else _Spec(default=spec)
            columns.append(_column(field, hints[field], spec))
            if spec.default is _MISSING:
                if field in cls.__dict__:
                    delattr(cls, field)
            else:
                setattr(cls, field, spec.default)
        made = dataclasses.dataclass(kw_only=True)(cls)
        made.__table__ = Table(name, METADATA, *columns, *extras)  # type: ignore[attr-defined]
        return made

    return make


def _column(name: str, hint: Any, spec: _Spec) -> Column[Any]:
    optional = type(None) in typing.get_args(hint)
    base = next((arg for arg in typing.get_args(hint) if arg is not type(None)), hint) if optional else hint
    sql_type = spec.type if spec.type is not None else _TYPES[base]()
    nullable = spec.nullable if spec.nullable is not None else (optional and not spec.primary_key)
    default = None if spec.default in (_MISSING, None) else spec.default
    return Column(name, sql_type, *spec.args, primary_key=spec.primary_key, nullable=nullable,
                  default=default, autoincrement=spec.autoincrement, server_default=spec.server_default)


def from_values(cls: type[R], values: Mapping[str, Any]) -> R:
    """A record holding `values` as they are: rows from the database are trusted, and
    skipping `__init__` keeps loading a long journal cheap."""
    instance = object.__new__(cls)
    instance.__dict__.update(values)
    return instance


def defaults(cls: type) -> dict[str, Any]:
    """The record's fields that have a default, with it."""
    return {field.name: field.default for field in dataclasses.fields(cls) if field.default is not _MISSING}

