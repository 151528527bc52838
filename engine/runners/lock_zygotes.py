"""What a runner pool keeps for steps' dependency locks: their mounts, their zygotes' flavours
and a hold on each environment whose zygote lives (so `deps prune` leaves it alone)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.deps.cache import KINDS, Lease
from engine.runners import sandbox
from engine.runners.zygotes import Flavour

if TYPE_CHECKING:
    from engine.deps.service import Dependencies, Prepared

PREFIX = "deps-"


class LockZygotes:
    """The pool's view of the dependency cache: where jobs see it, and a zygote per Python lock."""

    def __init__(self, deps: Dependencies):
        self.deps = deps
        self.isolated = True
        """Whether jobs run in the sandbox (they then see the cache at sandbox.DEPS_MOUNT)."""
        self._held: dict[str, Lease] = {}
        self._flavours: dict[str, Flavour] = {}

    def mounts(self) -> tuple[tuple[str, str], ...]:
        """The cache's environments as the sandbox shows them, read-only: (host, inside)."""
        root = self.deps.cache.root
        return tuple((str(root / kind), f"{sandbox.DEPS_MOUNT}/{kind}") for kind in KINDS if (root / kind).is_dir())

    def inside(self, host: Path) -> str:
        """Where a job sees a folder of the dependency cache."""
        if not self.isolated:
            return str(host)
        return f"{sandbox.DEPS_MOUNT}/{host.relative_to(self.deps.cache.root)}"

    def flavour(self, prepared: Prepared) -> Flavour | None:
        """The zygote of a job's Python lock (None: the default zygote). The first job of a
        lock hands its hold on the environment over to the zygote, for as long as it lives."""
        if prepared.python_env is None:
            return None
        key = prepared.python_env.name
        if key not in self._held and prepared.lease is not None:
            self._held[key], prepared.lease = prepared.lease, None
        found = self._flavours.get(key)
        if found is None or not set(prepared.preload) <= set(found.preload):
            preload = tuple(dict.fromkeys((*(found.preload if found else ()), *prepared.preload)))
            found = self._flavours[key] = Flavour(f"{PREFIX}{key}", (self.inside(prepared.python_env),), preload)
        return found

    def stopped(self, zygote_name: str) -> None:
        """A lock's zygote was stopped: let go of its environment."""
        lease = self._held.pop(zygote_name.removeprefix(PREFIX), None)
        if lease is not None:
            lease.release()

    def close(self) -> None:
        for lease in self._held.values():
            lease.release()
        self._held.clear()
