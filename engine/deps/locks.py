"""Locks: the exact versions a script version runs with, as Windmill writes them.

A Python lock is a requirements file of pinned lines under a `# py311` header (the
Python it was made for): `requests==2.32.3`, one package a line. An npm lock (bun and
Deno steps) is `package.json`, a `//bun.lock` line, then bun's lock file (`<empty>`
when there is none). A lock without any package is an empty lock: the step runs as one
without dependencies. A lock's key (a hash of what it pins) names its environment in
the cache, so every script with the same lock shares one.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
from dataclasses import dataclass

from engine.errors import DependencyError

BUN_SPLIT = "\n//bun.lock\n"
BUNB_SPLIT = "\n//bun.lockb\n"
EMPTY_FILE = "<empty>"
PYTHON, NPM = "python", "npm"


def python_tag() -> str:
    """This Python as a lock's header names it: `py311`."""
    major, minor, _patch = platform.python_version_tuple()
    return f"py{major}{minor}"


@dataclass(frozen=True)
class Lock:
    """A lock's text, what kind it is, and the packages it pins."""

    kind: str
    """PYTHON or NPM."""
    text: str

    @functools.cached_property
    def pinned(self) -> list[str]:
        """Python: the requirement lines. npm: `name@range` of package.json's dependencies."""
        if self.kind == PYTHON:
            return [line.split("#", 1)[0].strip() for line in self.text.splitlines()
                    if line.split("#", 1)[0].strip() and not line.strip().startswith("-")]
        return [f"{name}@{spec}" for name, spec in self.package_json().get("dependencies", {}).items()]

    @property
    def empty(self) -> bool:
        """No package: the step needs no environment."""
        return not self.pinned

    @functools.cached_property
    def key(self) -> str:
        """The content hash that names this lock's environment in the cache."""
        if self.kind == PYTHON:
            basis = "\n".join([python_tag(), *sorted(self.pinned)])
        else:
            package, lockfile = self.parts()
            basis = "\n".join([NPM, json.dumps(package, sort_keys=True), lockfile])
        return hashlib.sha256(basis.encode()).hexdigest()[:32]

    def package_json(self) -> dict:
        """npm: the package.json part."""
        return self.parts()[0]

    def parts(self) -> tuple[dict, str]:
        """npm: (package.json, bun.lock text or "")."""
        text = self.text.replace("\r\n", "\n")
        head, _split, lockfile = text.partition(BUN_SPLIT)
        if not _split:
            head, _split, lockfile = text.partition(BUNB_SPLIT)
            lockfile = ""  # a binary lock from an older bun: installed from package.json
        try:
            package = json.loads(head) if head.strip() else {}
        except json.JSONDecodeError as exc:
            raise DependencyError(f"the lock's package.json part is not JSON: {exc}") from None
        if not isinstance(package, dict) or not isinstance(package.get("dependencies", {}), dict):
            raise DependencyError("the lock's package.json part must be an object with a `dependencies` object")
        lockfile = lockfile.strip()
        return package, "" if lockfile == EMPTY_FILE else lockfile + "\n" if lockfile else ""


def is_npm_lock(text: str) -> bool:
    """Whether a TypeScript step's lock is one this engine installs (package.json and
    bun's lock); Deno's own `deno.lock` JSON, as Windmill keeps for Deno steps, is not."""
    if BUN_SPLIT in text.replace("\r\n", "\n") or BUNB_SPLIT in text.replace("\r\n", "\n"):
        return True
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return False
    return isinstance(data, dict) and "dependencies" in data and "version" not in data


def python_lock(pinned_lines: list[str]) -> Lock:
    """A Python lock of these pinned requirement lines, for this Python."""
    return Lock(PYTHON, "".join(f"{line}\n" for line in [f"# {python_tag()}", *pinned_lines]))


def npm_lock(package: dict, lockfile: str) -> Lock:
    """An npm lock of a package.json and bun's lock file text."""
    return Lock(NPM, json.dumps(package, indent=2) + BUN_SPLIT + (lockfile.strip() or EMPTY_FILE))


def python_covers(lock: Lock, requirements: tuple[str, ...]) -> bool:
    """Whether the lock pins every requirement, at a version each allows."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    pinned: dict[str, str | None] = {}
    for line in lock.pinned:
        try:
            entry = Requirement(line)
        except InvalidRequirement:
            continue
        exact = [spec.version for spec in entry.specifier if spec.operator in ("==", "===")]
        pinned[canonicalize_name(entry.name)] = exact[0] if exact else None
    for text in requirements:
        try:
            wanted = Requirement(text)
        except InvalidRequirement:
            return False
        name = canonicalize_name(wanted.name)
        if name not in pinned:
            return False
        version = pinned[name]
        if version is not None and wanted.specifier and not wanted.specifier.contains(version, prereleases=True):
            return False
    return True


def npm_covers(lock: Lock, wanted: dict[str, str]) -> bool:
    """Whether the lock's package.json has every package, with the version written."""
    declared = lock.package_json().get("dependencies", {})
    return all(name in declared and (spec == "latest" or declared[name] == spec) for name, spec in wanted.items())
