"""Locks made when scripts and flows are saved: every run of that version uses exactly them.

A Python or TypeScript script, and each such step of a flow (at any depth, also the
failure and preprocessor steps), gets the lock of what its imports need; a lock it
comes with (`lock` of a flow step, a `*.script.lock` from `wmill sync`) is kept as long
as it pins all of that. Steps that need nothing get no lock.
"""

from __future__ import annotations

import copy
import functools
from typing import Any, Iterator

from engine.deps.pyimports import Fetch
from engine.deps.service import Dependencies
from engine.errors import DependencyError

LOCKED_LANGUAGES = ("python3", "bun", "nativets", "deno")


@functools.lru_cache(maxsize=4)
def _dependencies(root: str) -> Dependencies:
    from pathlib import Path

    return Dependencies(Path(root))


def default_dependencies() -> Dependencies:
    """The process's Dependencies for the cache MILLRACE_DEPS_DIR names (made once per folder)."""
    from engine.deps.cache import default_root

    return _dependencies(str(default_root()))


def lock_script(language: str, content: str, *, lock: str | None = None, path: str | None = None,
                fetch: Fetch | None = None) -> str | None:
    """The lock to save with a script (None: it needs nothing).

    Args:
        language: the script's language; only Python and TypeScript have locks.
        content: its source.
        lock: the lock it comes with, kept while it pins every import.
        path: its workspace path, for its relative imports.
        fetch: the source of a workspace script by path, for the imports of those it imports.

    Raises:
        DependencyError: its imports cannot be resolved (names the package, quotes the resolver).
    """
    return default_dependencies().lock_for(language, content, lock=lock, path=path, fetch=fetch)


def lock_covers(language: str, content: str, lock: str | None, *, path: str | None = None) -> bool:
    """Whether a script's `lock` still pins everything its code imports (an editor drops a
    lock its code outgrew, so that a preview resolves the imports afresh). Never resolves."""
    from engine.errors import DependencyError as Refused

    try:
        return default_dependencies().covers(language, content, lock, path=path)
    except Refused:
        return False


def lock_flow(document: dict[str, Any], *, fetch: Fetch | None = None) -> dict[str, Any]:
    """A copy of a flow document (or bare flow value) whose script steps carry their locks.

    Raises:
        DependencyError: a step's imports cannot be resolved; the message names the step.
    """
    locked = copy.deepcopy(document)
    for module in script_steps(locked):
        step = module["value"]
        try:
            made = lock_script(step["language"], step["content"], lock=step.get("lock"), path=step.get("path"),
                               fetch=fetch)
        except DependencyError as exc:
            raise DependencyError(f"step {module.get('id', '?')!r}: {exc}") from None
        if made:
            step["lock"] = made
    return locked


def script_steps(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The modules of a flow document (or bare value) that are Python or TypeScript
    rawscripts, at every depth: the steps that have locks."""
    value = document.get("value") if isinstance(document.get("value"), dict) else document
    for module in _modules(value):
        step = module.get("value")
        if isinstance(step, dict) and step.get("type") == "rawscript" and \
                step.get("language") in LOCKED_LANGUAGES and isinstance(step.get("content"), str):
            yield module


def _modules(value: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every module of a flow value, at every depth."""
    tops = list(value.get("modules") or [])
    tops += [value[name] for name in ("failure_module", "preprocessor_module") if isinstance(value.get(name), dict)]
    for module in tops:
        if not isinstance(module, dict):
            continue
        yield module
        step = module.get("value") or {}
        if not isinstance(step, dict):
            continue
        yield from _modules({"modules": step.get("modules") or []})
        yield from _modules({"modules": step.get("default") or []})
        for branch in step.get("branches") or []:
            if isinstance(branch, dict):
                yield from _modules({"modules": branch.get("modules") or []})
