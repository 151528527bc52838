"""Where the app keeps its data and how scripts reach it back (environment, read once)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "examples"
WORKSPACE = "main"
DEFAULT_PORT = 3000


def database_url() -> str | None:
    """`DATABASE_URL` when set; None lets the store use SQLite under `data/`."""
    return os.environ.get("DATABASE_URL") or None


def base_internal_url() -> str:
    """The URL scripts use to call the app (its demo API and REST API)."""
    return os.environ.get("BASE_INTERNAL_URL") or f"http://127.0.0.1:{DEFAULT_PORT}"


def public_url() -> str:
    """The URL people open in a browser; used in approval links."""
    return os.environ.get("MILLRACE_PUBLIC_URL") or base_internal_url()


DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024


def max_body_bytes() -> int:
    """`MILLRACE_MAX_BODY_BYTES`: the largest request body the app reads (default 16 MiB).

    Raises:
        ValueError: the variable is set to anything but a positive whole number.
    """
    raw = os.environ.get("MILLRACE_MAX_BODY_BYTES", "").strip()
    if not raw:
        return DEFAULT_MAX_BODY_BYTES
    if not raw.isdigit() or int(raw) <= 0:
        raise ValueError(f"MILLRACE_MAX_BODY_BYTES must be a positive whole number of bytes, not {raw[:40]!r}")
    return int(raw)
