"""Turn pydantic's validation errors into Issues with Windmill-style JSON paths.

pydantic's error locations include the tags of the unions it tried (`forloopflow`,
`static`, `int`); those are not keys of the document, so they are dropped by walking the
location along the document itself. Unknown step types get one clear message naming the
allowed types instead of one error per union member.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from engine.errors import Issue
from engine.openflow.base import TRANSFORM_TYPES
from engine.openflow.models import MODULE_TYPES
from engine.openflow.paths import format_path

_TAGS = frozenset(MODULE_TYPES) | frozenset(TRANSFORM_TYPES)


def _document_keys(data: Any, loc: tuple[Any, ...], keep_last: bool) -> list[str | int]:
    """The part of a pydantic location that names real keys of `data`."""
    keys: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        if isinstance(node, dict) and part in _TAGS and part == node.get("type"):
            continue  # a discriminated union's tag, equal to the node's own `type`
        if isinstance(node, dict) and part in node:
            keys.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            keys.append(part)
            node = node[part]
        elif keep_last and index == len(loc) - 1:
            keys.append(part)
    return keys


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "got an object"
    if isinstance(value, list):
        return "got a list"
    text = repr(value)
    return f"got {text[:60] + '...' if len(text) > 60 else text}"


def _message(error: dict[str, Any], keys: list[str | int]) -> tuple[str, str]:
    """Return (suffix to add to the path, message) for one pydantic error."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return "", "field required"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        # Only a step's `value` and input transforms are unions tagged by `type`.
        is_step = bool(keys) and keys[-1] == "value"
        allowed = MODULE_TYPES if is_step else TRANSFORM_TYPES
        noun = "module type" if is_step else "input transform type"
        if kind == "union_tag_not_found":
            return ".type", f"field required; allowed {noun}s: {', '.join(allowed)}"
        return ".type", f"unknown {noun} {ctx.get('tag')!r}; allowed: {', '.join(allowed)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        message = "input should be an object"
    else:
        message = error["msg"][:1].lower() + error["msg"][1:]
    return "", f"{message}, {_describe(error.get('input'))}"


def issues_from_validation_error(exc: ValidationError, data: Any, *, root: str = "") -> list[Issue]:
    """Convert a pydantic ValidationError over `data` into Issues, one per problem.

    Args:
        exc: the error pydantic raised while validating `data`.
        data: the document as given (dicts and lists), used to tell keys from union tags.
        root: the name of `data` in paths (empty for a whole flow document).

    Returns:
        Issues in pydantic's order, duplicates removed.
    """
    issues: list[Issue] = []
    seen: set[tuple[str, str]] = set()
    for error in exc.errors(include_url=False):
        keys = _document_keys(data, tuple(error["loc"]), keep_last=error["type"] == "missing")
        suffix, message = _message(error, keys)
        path = format_path(root, keys) + suffix
        if (path, message) not in seen:
            seen.add((path, message))
            issues.append(Issue(path, message))
    return issues
