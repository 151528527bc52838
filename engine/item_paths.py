"""Item paths: where flows, scripts, variables, resources and schedules live.

One grammar, as in Windmill: `u/<user>/<name>` (a user's own items) or
`f/<folder>/<name>` (a folder's). The name may have further `/` segments. A segment is
ASCII letters, digits, `_`, `-` and `.`, and is never empty, `.` or `..`; so an item
path is also a safe relative file path, which the resolver relies on.
"""

from __future__ import annotations

import re

from engine.errors import ItemPathError, quote

MAX_LENGTH = 255
"""Longest path accepted, in characters."""
OWNER_KINDS = ("u", "f")
"""First segment: `u` (user) or `f` (folder)."""
EXPECTED = "a path looks like u/<user>/<name> or f/<folder>/<name>"

_BAD_CHAR = re.compile(r"[^A-Za-z0-9_./-]")


def path_problem(path: object) -> str | None:
    """What is wrong with `path` as an item path, or None when it is well formed."""
    if not isinstance(path, str):
        return f"a path must be a string, got {type(path).__name__}"
    if not path:
        return "it is empty"
    if len(path) > MAX_LENGTH:
        return f"it has {len(path)} characters, more than {MAX_LENGTH}"
    bad = _BAD_CHAR.search(path)
    if bad is not None:
        return f"character {_describe(bad.group())} at position {bad.start()} is not allowed " \
               "(use letters, digits, _, - and .)"
    segments = path.split("/")
    if segments[0] not in OWNER_KINDS:
        return "it must start with u/ (a user) or f/ (a folder)"
    if len(segments) < 3:
        return "it needs an owner and a name after " + segments[0] + "/"
    for index, segment in enumerate(segments):
        if not segment:
            return f"segment {index + 1} is empty"
        if segment in (".", ".."):
            return f"segment {index + 1} is {segment!r}"
    return None


def check_item_path(path: object, what: str = "item") -> str:
    """`path` itself when it is a well-formed item path.

    Args:
        path: the path to check.
        what: what it names ("flow", "script", "variable", ...), for the message.

    Raises:
        ItemPathError: naming the path (shortened when long) and what is wrong.
    """
    problem = path_problem(path)
    if problem is not None:
        raise ItemPathError(f"{what} path {quote(path)} is invalid: {problem}; {EXPECTED}")
    return path  # type: ignore[return-value]


def _describe(char: str) -> str:
    names = {"\\": "backslash", "\0": "NUL", " ": "space"}
    return names.get(char) or (repr(char) if char.isprintable() else f"U+{ord(char):04X}")
