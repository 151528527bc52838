"""Values crossing a SQL job's edges: JSON arguments into parameters, result cells into JSON.

Runs inside the sandbox (sqljob.py); never imported by the engine. Parameters are always
bound, never written into the SQL text.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import ipaddress
import json
import math
import uuid
from typing import Any

from pyjob import JobError

# --- into parameters ------------------------------------------------------------------

def pg_parameter(param: dict, value: Any) -> str | bytes | None:
    """A JSON argument as PostgreSQL reads a parameter: text (its cast in the SQL decides
    the type), bytes for bytea (given as base64), or None for NULL.

    `param` is the engine's {"name", "type", "kind"} of the argument (signature_sql.py).
    """
    if value is None:
        return None
    if param["kind"] == "bytes" and not param["type"].endswith("[]"):
        return _base64(param["name"], value)
    if param["type"].endswith("[]") and isinstance(value, list):
        return pg_array(value)
    return pg_text(value)


def pg_text(value: Any) -> str:
    """How PostgreSQL writes a JSON value as text: booleans as true/false, objects as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value if isinstance(value, str) else json.dumps(value)


def pg_array(items: list[Any]) -> str:
    """A PostgreSQL array literal of `items`, every element quoted."""
    parts = []
    for item in items:
        if item is None:
            parts.append("NULL")
        elif isinstance(item, list):
            parts.append(pg_array(item))
        else:
            text = pg_text(item).replace("\\", "\\\\").replace('"', '\\"')
            parts.append(f'"{text}"')
    return "{" + ",".join(parts) + "}"


def duckdb_parameter(param: dict, value: Any, *, item: bool = False) -> Any:
    """A JSON argument as the Python value DuckDB binds for its declared type."""
    if value is None:
        return None
    if not item and param["type"].endswith("[]") and isinstance(value, list):
        return [duckdb_parameter(param, entry, item=True) for entry in value]
    kind = param["kind"]
    if kind == "json":
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if kind == "bytes":
        return _base64(param["name"], value)
    if not isinstance(value, str):
        return value
    try:
        return _parse_text(kind, value)
    except (ValueError, decimal.InvalidOperation):
        raise JobError("TypeError", f"argument {param['name']} is declared {param['type']}, "
                                    f"but {value[:80]!r} is not one") from None


_TEXT_PARSERS = {
    "integer": int, "float": float, "decimal": decimal.Decimal,
    "date": lambda text: datetime.date.fromisoformat(text[:10]),
    "timestamp": lambda text: datetime.datetime.fromisoformat(text.replace("Z", "+00:00")),
    "time": datetime.time.fromisoformat,
}


def _parse_text(kind: str, value: str) -> Any:
    """A string argument read as its declared kind (a form sends every value as text)."""
    parse = _TEXT_PARSERS.get(kind)
    return value if parse is None else parse(value)


def _base64(name: str, value: Any) -> bytes:
    if not isinstance(value, str):
        raise JobError("TypeError", f"argument {name} is binary: give it as a base64 string, not {type(value).__name__}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise JobError("TypeError", f"argument {name} is binary: {value[:80]!r} is not base64") from None


# --- out of results -------------------------------------------------------------------

def to_json(value: Any) -> Any:
    """A result cell as JSON data: numbers and text as they are, exact decimals as text,
    dates and times as ISO 8601 text (timestamps with a time zone in UTC), binary as
    `\\x` and hex, UUIDs and addresses as text, arrays as lists, JSON as it is."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value).replace("inf", "Infinity").replace("nan", "NaN")
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.timezone.utc).isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return interval_text(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (decimal.Decimal, uuid.UUID, ipaddress._BaseAddress, ipaddress._BaseNetwork)):
        return str(value)
    return str(value)


def parse_json_text(cell: Any) -> Any:
    """A JSON column's text (DuckDB gives JSON as text) as the data it holds."""
    if not isinstance(cell, str):
        return cell
    try:
        return json.loads(cell)
    except ValueError:
        return cell


def interval_text(value: datetime.timedelta) -> str:
    """A duration as PostgreSQL writes an interval: `2 days 03:04:05.5`."""
    sign = "-" if value < datetime.timedelta(0) else ""
    value = abs(value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{seconds:02d}" + (f".{value.microseconds:06d}".rstrip("0") if value.microseconds else "")
    if not value.days:
        return sign + clock
    return f"{sign}{value.days} day{'s' if value.days != 1 else ''} {sign}{clock}"
