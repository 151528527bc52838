"""Per-job limits that hold for all of a job's processes together: memory and process count.

Each job runs in a control group of its own, so everything the script starts is in it
too: the memory of all its processes (and of its tmpfs folders) counts against one cap,
its processes and threads against one count, and when the job ends whatever is left in
the group is killed. Linux offers this through cgroup v1 (`memory` and `pids`
hierarchies) or v2 (one hierarchy); the engine needs to be allowed to create groups
(root, or a delegated subtree). Where it is not, jobs keep their per-process limits (an
address-space cap) and the process count is not capped; `Cgroups.detect()` says which.

Moving a process into a group can wait for a kernel grace period (milliseconds), so it
is never done on a job's path nor on the engine's event loop: the engine makes one
folder per runner pool (`millrace-<pid>-<id>`, one per hierarchy) and shows it to the
zygote; each spare's job process makes the group `job-<spare pid>` there, sets the
default limits and joins it before it waits for a job, so everything the job starts is
in it (inside/isolation.py `join_cgroup`). The engine only changes the memory cap of a job that
asks for another one, reads whether the kernel killed for memory, and kills what a job
left and removes its group (after reading it: the zygote never removes one).
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONTROLLERS = ("memory", "pids")
EMPTY_WAIT = 1.0
SWEEP_PAUSE = 0.01
"""How long the sweeper waits before it looks again at groups that are not empty yet."""
CLOSE_POLL = 0.002
"""How often `close` looks again at groups whose processes are still exiting."""
_STOP = object()
INSIDE_ROOT = "/run/millrace/cgroup"
"""Where the zygote sees the pool's folders (one per hierarchy, numbered)."""


@dataclass
class JobGroup:
    """The control group(s) of one job: `job-<spare pid>` in each of the pool's folders."""

    dirs: tuple[Path, ...]

    def pids(self) -> set[int]:
        """The processes in the group (read with plain system calls: this runs for every job)."""
        found: set[int] = set()
        for folder in self.dirs:
            try:
                fd = os.open(folder / "cgroup.procs", os.O_RDONLY)
            except OSError:
                continue
            try:
                found.update(int(word) for word in _read_all(fd).split())
            except OSError:
                pass
            finally:
                os.close(fd)
        return found


class Cgroups:
    """The cgroup folders of one runner pool and the jobs' groups in them."""

    def __init__(self, version: int, parents: dict[str, Path]):
        self.version = version
        self.parents = parents
        self._draining: list[JobGroup] = []
        self._released: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._sweeper: threading.Thread | None = None

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
        return f"cgroup v{self.version} ({', '.join(str(p) for p in self.folders())})"

    def folders(self) -> list[Path]:
        """The pool's folders, one per hierarchy (v2: one)."""
        return list(dict.fromkeys(self.parents.values()))

    def inside(self) -> dict[str, object]:
        """What the zygote needs to make each spare's group: for `bwrap_argv` and its config.

        `binds` maps host folders to where the sandbox shows them; `files` names, per
        folder as seen inside, the limit files of each controller.
        """
        binds = {str(folder): f"{INSIDE_ROOT}/{n}" for n, folder in enumerate(self.folders())}
        return {"version": self.version, "binds": binds,
                "memory": binds[str(self.parents["memory"])], "pids": binds[str(self.parents["pids"])]}

    def group(self, keeper: int) -> JobGroup:
        """The group the spare `keeper` (the pid the zygote reports it by) made for its job."""
        return JobGroup(tuple(folder / f"job-{keeper}" for folder in self.folders()))

    def set_memory(self, group: JobGroup, memory_mb: int) -> None:
        """Cap the memory of the job's processes together at `memory_mb` (before the job starts)."""
        cap, folder = str(memory_mb * 2**20), self._dir(group, "memory")
        if self.version == 1:
            # memory+swap may never be below memory: lift it, set memory, then cap it too.
            _write(folder / "memory.memsw.limit_in_bytes", "-1", optional=True)
            _write(folder / "memory.limit_in_bytes", cap)
            _write(folder / "memory.memsw.limit_in_bytes", cap, optional=True)
        else:
            _write(folder / "memory.max", cap)

    def out_of_memory(self, group: JobGroup) -> bool:
        """Whether the kernel killed a process of this job for breaking its memory cap."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            for line in (self._dir(group, "memory") / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value) > 0
        except (OSError, ValueError):
            pass
        return False

    def release(self, group: JobGroup) -> None:
        """Kill what the job left in its group; the group is removed once empty.

        Removing a memory group takes the kernel milliseconds, so a thread of its own
        does it, off the job's path and off the event loop.
        """
        _kill(group.pids())
        if self._sweeper is None:
            self._sweeper = threading.Thread(target=self._sweep_released, name="millrace-cgroups", daemon=True)
            self._sweeper.start()
        self._released.put(group)

    def _sweep_released(self) -> None:
        """The sweeper thread: remove released groups until `close` says stop."""
        while True:
            try:
                group = self._released.get(timeout=SWEEP_PAUSE if self._draining else None)
            except queue.Empty:
                group = None  # nothing new: look again at the groups not empty yet
            if group is _STOP:
                return
            if group is not None:
                self._draining.append(group)
            self.sweep()

    def sweep(self) -> None:
        """Remove the groups emptied since their job ended; kill stragglers again."""
        still = []
        for group in self._draining:
            left = group.pids()
            if left:
                _kill(left)
                still.append(group)
            else:
                _remove(group.dirs)
        self._draining = still

    def close(self) -> None:
        """Remove every group of this pool and the pool's folders, killing what is left in them."""
        if self._sweeper is not None:
            self._released.put(_STOP)
            self._sweeper.join()
            self._sweeper = None
        self._draining.extend(JobGroup(tuple(folder.glob("job-*"))) for folder in self.folders())
        deadline = time.monotonic() + EMPTY_WAIT
        while self._draining and time.monotonic() < deadline:
            self.sweep()
            if self._draining:
                time.sleep(CLOSE_POLL)
        _remove(self.folders())

    def _dir(self, group: JobGroup, controller: str) -> Path:
        parent = self.parents[controller]
        return next(folder for folder in group.dirs if folder.parent == parent)


def _write(path: Path, value: str, optional: bool = False) -> None:
    try:
        path.write_text(value)
    except OSError:
        if not optional:
            raise


def _read_all(fd: int) -> bytes:
    """Everything left to read from `fd` (a kernel file may give it a page at a time)."""
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _remove(folders: list[Path] | tuple[Path, ...]) -> None:
    for folder in folders:
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


def _sweep_dead(base: Path) -> None:
    """Remove the (empty) folders left by engine processes that died without closing."""
    for stale in base.glob("millrace-*-*"):
        pid = stale.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            _remove([*stale.glob("job-*"), stale])


def _make_parent(base: Path, name: str) -> Path | None:
    _sweep_dead(base)
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
    base = mounts[0][0] / own.lstrip("/")
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
