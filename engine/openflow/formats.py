"""String formats checked in args: email, date-time, ipv4, hostname, uri, and more.

jsonschema silently skips a format whose optional checker package is missing, so the
formats flows rely on are checked here with the standard library, the same on every
install.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import FormatChecker

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_DATE_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$"
)
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_URI = re.compile(
    r"^[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$"
)


def is_email(value: Any) -> bool:
    """A plausible address: one @ between non-empty parts, no spaces."""
    return not isinstance(value, str) or bool(_EMAIL.match(value))


def is_date_time(value: Any) -> bool:
    """RFC 3339 date-time: `2024-05-01T12:30:00Z`, `...:00.5+02:00`."""
    if not isinstance(value, str):
        return True
    match = _DATE_TIME.match(value)
    if match is None:
        return False
    if match.group(4) and (int(match.group(4)) > 23 or int(match.group(5)) > 59):
        return False
    try:
        datetime.strptime(match.group(1).upper(), "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return False
    return True


def is_hostname(value: Any) -> bool:
    """RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens."""
    if not isinstance(value, str):
        return True
    name = value[:-1] if value.endswith(".") else value
    return 0 < len(name) <= 253 and all(_LABEL.match(label) for label in name.split("."))


def is_uri(value: Any) -> bool:
    """RFC 3986 absolute URI: a scheme, then only URI characters and valid %-escapes."""
    return not isinstance(value, str) or bool(_URI.match(value))


def format_checker() -> FormatChecker:
    """jsonschema's checker (ipv4, ipv6, date, uuid, ...) with the formats above pinned."""
    from jsonschema import FormatChecker

    checker = FormatChecker()
    checker.checks("email")(is_email)
    checker.checks("date-time")(is_date_time)
    checker.checks("hostname")(is_hostname)
    checker.checks("uri")(is_uri)
    return checker
