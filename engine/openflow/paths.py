"""JSON paths in Windmill's style: `value.modules[2].value.iterator`."""

from __future__ import annotations

import json
import re
from typing import Iterable

IDENTIFIER = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")
"""What a step id must look like (so that `results.<id>` is valid JavaScript)."""


def join_path(path: str, key: str | int) -> str:
    """Append one key or index to a JSON path: `a` + 0 -> `a[0]`, `a` + `b` -> `a.b`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not IDENTIFIER.match(key):
        return f"{path}[{json.dumps(key)}]"
    return f"{path}.{key}" if path else key


def format_path(root: str, keys: Iterable[str | int]) -> str:
    """Build a JSON path from a root name (may be empty) and keys."""
    path = root
    for key in keys:
        path = join_path(path, key)
    return path
