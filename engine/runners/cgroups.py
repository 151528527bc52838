"""Per-job limits that hold for all of a job's processes together: memory and process count.

A job's process is put into a control group of its own before it starts the script, so
everything the script starts is in it too: the memory of all its processes (and of its
tmpfs folders) counts against one cap, its processes and threads against one count, and
when the job ends whatever is left in the group is killed. Linux offers this through
cgroup v1 (`memory` and `pids` hierarchies) or v2 (one hierarchy); the engine needs to
be allowed to create groups (root, or a delegated subtree). Where it is not, jobs keep
their per-process limits (an address-space cap) and the process count is not capped;
`Cgroups.detect()` says which.

Groups are made under one folder per runner pool (`millrace-<pid>-<id>`) and reused from
job to job once empty, so creating them is rarely on a job's path.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

CONTROLLERS = ("memory", "pids")
EMPTY_WAIT = 1.0


@dataclass
class JobGroup:
    """The control group(s) one job runs in."""

    dirs: tuple[Path, ...]
    """One folder per hierarchy (v1: memory and pids; v2: one)."""
    oom_before: int = 0

    def pids(self) -> set[int]:
        found: set[int] = set()
        for folder in self.dirs:
            try:
                found.update(int(line) for line in (folder / "cgroup.procs").read_text().split())
            except OSError:
                continue
        return found


class Cgroups:
    """Creates, fills, empties and reuses the jobs' control groups of one engine process."""

    def __init__(self, version: int, parents: dict[str, Path]):
        self.version = version
        self.parents = parents
        self._free: list[JobGroup] = []
        self._draining: list[JobGroup] = []
        self._count = 0

    @classmethod
    def detect(cls) -> "Cgroups | None":
        """The cgroups this process may use for jobs, or None where it may not."""
        name = f"millrace-{os.getpid()}-{uuid.uuid4().hex[:8]}"  # one per pool
        for attempt in (_v1_parents, _v2_parents):
            found = attempt(name)
            if found is not None:
                version, parents = found
                return cls(version, parents)
        return None

    def describe(self) -> str:
        return f"cgroup v{self.version} ({', '.join(str(p) for p in sorted(set(self.parents.values())))})"

    def take(self, memory_mb: int, max_processes: int) -> JobGroup:
        """A group for a new job, with its limits set."""
        self._reclaim()
        group = self._free.pop() if self._free else self._create()
        cap = str(memory_mb * 2**20)
        if self.version == 1:
            # memory+swap may never be below memory: lift it, set memory, then cap it too.
            self._write(group, "memory", "memory.memsw.limit_in_bytes", "-1", optional=True)
            self._write(group, "memory", "memory.limit_in_bytes", cap)
            self._write(group, "memory", "memory.memsw.limit_in_bytes", cap, optional=True)
        else:
            self._write(group, "memory", "memory.max", cap)
            self._write(group, "memory", "memory.swap.max", "0", optional=True)
        self._write(group, "pids", "pids.max", str(max_processes))
        group.oom_before = self.oom_kills(group)
        return group

    def place(self, group: JobGroup, pid: int) -> None:
        """Move process `pid` (before it starts anything) into the group."""
        for folder in group.dirs:
            (folder / "cgroup.procs").write_text(str(pid))

    def out_of_memory(self, group: JobGroup) -> bool:
        """Whether the kernel killed a process of this job for breaking its memory cap."""
        return self.oom_kills(group) > group.oom_before

    def oom_kills(self, group: JobGroup) -> int:
        folder = self._dir(group, "memory")
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            for line in (folder / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def release(self, group: JobGroup) -> None:
        """Kill what the job left in its group; the group serves another job once empty."""
        _kill(group.pids())
        self._draining.append(group)

    def _reclaim(self) -> None:
        """Groups emptied since their job ended become free; stragglers are killed again."""
        still = []
        for group in self._draining:
            left = group.pids()
            if left:
                _kill(left)
                still.append(group)
            else:
                self._free.append(group)
        self._draining = still

    def close(self) -> None:
        """Remove every group of this engine process, killing what is left in them."""
        deadline = time.monotonic() + EMPTY_WAIT
        while self._draining and time.monotonic() < deadline:
            self._reclaim()
            time.sleep(0.01)
        for group in self._free + self._draining:
            self._remove(group)
        self._free.clear()
        self._draining.clear()
        for parent in set(self.parents.values()):
            for leftover in parent.glob("job-*"):
                try:
                    leftover.rmdir()
                except OSError:
                    pass
            try:
                parent.rmdir()
            except OSError:
                pass

    def _create(self) -> JobGroup:
        self._count += 1
        dirs = []
        for parent in dict.fromkeys(self.parents.values()):
            folder = parent / f"job-{self._count}"
            folder.mkdir(exist_ok=True)
            dirs.append(folder)
        return JobGroup(tuple(dirs))

    def _dir(self, group: JobGroup, controller: str) -> Path:
        parent = self.parents[controller]
        return next(folder for folder in group.dirs if folder.parent == parent)

    def _write(self, group: JobGroup, controller: str, name: str, value: str, optional: bool = False) -> None:
        try:
            (self._dir(group, controller) / name).write_text(value)
        except OSError:
            if not optional:
                raise

    def _remove(self, group: JobGroup) -> None:
        for folder in group.dirs:
            try:
                folder.rmdir()
            except OSError:
                pass


def _kill(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _own_paths() -> dict[str, str]:
    """controller (or "" for v2) -> this process's group path, from /proc/self/cgroup."""
    paths: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _id, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _mounts(fstype: str) -> list[tuple[Path, set[str]]]:
    """(mount point, options) of every mounted cgroup file system of `fstype`."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        head, _, tail = line.partition(" - ")
        fields, tail_fields = head.split(), tail.split()
        if tail_fields and tail_fields[0] == fstype:
            found.append((Path(fields[4]), set(tail_fields[-1].split(","))))
    return found


def _sweep(base: Path) -> None:
    """Remove the (empty) groups left by engine processes that died without closing."""
    for stale in base.glob("millrace-*-*"):
        pid = stale.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            for folder in [*stale.glob("job-*"), stale]:
                try:
                    folder.rmdir()
                except OSError:
                    pass


def _make_parent(base: Path, name: str) -> Path | None:
    _sweep(base)
    parent = base / name
    try:
        parent.mkdir(exist_ok=True)
        probe = parent / "job-probe"
        probe.mkdir(exist_ok=True)
        probe.rmdir()
    except OSError:
        return None
    return parent


def _v1_parents(name: str) -> tuple[int, dict[str, Path]] | None:
    own = _own_paths()
    parents: dict[str, Path] = {}
    for controller in CONTROLLERS:
        mount = next((point for point, options in _mounts("cgroup") if controller in options), None)
        if mount is None or controller not in own:
            return None
        parent = _make_parent(mount / own[controller].lstrip("/"), name)
        if parent is None:
            return None
        parents[controller] = parent
    return 1, parents


def _v2_parents(name: str) -> tuple[int, dict[str, Path]] | None:
    mounts = _mounts("cgroup2")
    own = _own_paths().get("")
    if not mounts or own is None:
        return None
    mount = mounts[0][0]
    base = mount / own.lstrip("/")
    try:
        enabled = (base / "cgroup.subtree_control").read_text().split()
    except OSError:
        return None
    if not set(CONTROLLERS) <= set(enabled):
        return None
    parent = _make_parent(base, name)
    if parent is None:
        return None
    try:
        (parent / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in CONTROLLERS))
    except OSError:
        parent.rmdir()
        return None
    return 2, {controller: parent for controller in CONTROLLERS}
