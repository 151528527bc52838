"""Folders, as Windmill's `f/<folder>/...` paths group items.

A folder exists when it was made (`folders/create`, `wmill sync push` of a
`folder.meta.yaml`) or when an item's path is in it. Made folders are kept as one app
setting (a small JSON object by name): they carry only a display name, owners and a
summary, which Millrace shows but does not enforce (its access rule is the role).
"""

from __future__ import annotations

import json
import re
from typing import Any

from app import settings

SETTING = "wmill.folders"
NAME = re.compile(r"[a-zA-Z0-9_-]{1,100}")


class FolderError(ValueError):
    """A folder request that cannot be done (the message says why)."""


def document(name: str, made: dict[str, Any] | None = None) -> dict[str, Any]:
    """A folder as `folders/get` and the export show it (without its name)."""
    made = made or {}
    return {"display_name": made.get("display_name") or name, "owners": list(made.get("owners") or []),
            "extra_perms": dict(made.get("extra_perms") or {}), "summary": made.get("summary")}


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise FolderError(f"folder name {str(name)[:60]!r} must be 1-100 letters, digits, _ or -")
    return name


def made(credentials: Any) -> dict[str, dict[str, Any]]:
    """The folders made explicitly, by name."""
    raw = credentials.setting(SETTING)
    return json.loads(raw) if raw else {}


def in_use(store: Any) -> dict[str, int]:
    """How many items each folder holds, by the items' paths."""
    ws, counts = settings.WORKSPACE, {}
    paths = [row.path for row in store.list_flows(workspace=ws)]
    paths += [row.path for row in store.list_scripts(workspace=ws)]
    paths += [row.path for row in store.list_resource_rows(workspace=ws)]
    paths += [row.path for row in store.list_variable_rows(workspace=ws)]
    paths += [row.path for row in store.list_schedules(workspace=ws)]
    for path in paths:
        parts = path.split("/")
        if parts[0] == "f" and len(parts) > 2:
            counts[parts[1]] = counts.get(parts[1], 0) + 1
    return counts


def every(store: Any, credentials: Any) -> dict[str, dict[str, Any]]:
    """Every folder (made or in use), sorted by name, as `document` shows it."""
    kept = made(credentials)
    names = sorted(set(kept) | set(in_use(store)))
    return {name: document(name, kept.get(name)) for name in names}


def get(store: Any, credentials: Any, name: str) -> dict[str, Any]:
    """Raises KeyError when there is no such folder."""
    return every(store, credentials)[name]


def save(credentials: Any, name: str, fields: dict[str, Any], *, creating: bool, exists: bool) -> None:
    """Create (`creating`) or update a folder's display name, owners and summary."""
    check_name(name)
    if creating and exists:
        raise FolderError(f"folder {name} exists already")
    if not creating and not exists:
        raise FolderError(f"folder {name} does not exist")
    kept = made(credentials)
    entry = dict(kept.get(name) or {})
    for key in ("display_name", "owners", "extra_perms", "summary"):
        if key in fields:
            entry[key] = fields[key]
    kept[name] = document(name, entry)
    credentials.set_setting(SETTING, json.dumps(kept, sort_keys=True))


def delete(store: Any, credentials: Any, name: str) -> int:
    """Forget a folder, as Windmill's `folders/delete` does (and `wmill sync push` asks
    before deleting the items in it): the items in it stay, and so does the folder while
    they do. Returns how many items it still holds.

    Raises:
        KeyError: no such folder (neither made nor in use).
    """
    held = in_use(store).get(name, 0)
    kept = made(credentials)
    if name not in kept and not held:
        raise KeyError(name)
    if kept.pop(name, None) is not None:
        credentials.set_setting(SETTING, json.dumps(kept, sort_keys=True))
    return held
