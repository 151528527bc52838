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
