"""A job's own namespaces inside the sandbox: run by the zygote's children, never imported by the engine.

The zygote itself runs under bubblewrap (engine/runners/sandbox.py): a read-only system,
no view of the app's files, a clean environment. Every job gets more on top, made ahead
of time by the spare that will run it (so none of it is on a job's path):

- a user namespace of its own, owning
- a PID namespace whose first process (PID 1, the spare's init) only reaps and waits
  for the job process: the job sees only its own processes, cannot signal the app, the
  zygote or other jobs, and when it ends the init exits and the kernel kills every
  process it started, `setsid` ones included;
- a mount namespace: a fresh /proc, size-capped tmpfs for /tmp, /dev/shm and the job's
  folder (which covers the folder holding the other jobs and the zygote's socket);
- an IPC namespace.

Then every capability is dropped (bounding set included) and no_new_privs is set, so
the script cannot undo any of it (unmount the covers, mount anything, gain privileges
through an executable).
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import signal

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE, MS_REMOUNT = 4096, 16384, 1 << 18, 32
PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
CAP_LAST = 63
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
JOB_NAMESPACES = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC
_SYS_CLONE = {"x86_64": 56, "aarch64": 220}.get(platform.machine())
CAN_CLONE = _SYS_CLONE is not None
"""Whether `clone_into_namespaces` knows this machine's system call (else: fork, then `enter_namespaces`)."""

_libc = ctypes.CDLL(None, use_errno=True)
# The same C library called with the GIL held: a clone returns in the child holding it, as fork does.
_libc_locked = ctypes.PyDLL(None, use_errno=True)
_libc_locked.syscall.restype = ctypes.c_long


class IsolationError(OSError):
    """A namespace, mount or capability call failed (the message names which)."""


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise IsolationError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = (lambda text: text.encode() if text is not None else None)
    _check(_libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
           f"mount {fstype or source} on {target}")


def set_parent_death_signal(signum: int) -> None:
    """Receive `signum` when the parent process ends."""
    _check(_libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")


def enter_namespaces() -> None:
    """Unshare user, mount, PID and IPC namespaces; our next child is PID 1 of the new one."""
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(JOB_NAMESPACES), "unshare")
    map_own_ids(uid, gid)


def clone_into_namespaces() -> int:
    """Fork a child that is PID 1 of new user, mount, PID and IPC namespaces, to be a
    job's init: 0 in the child, its pid in the parent.

    One process fewer than forking and unsharing there (whose next child would be PID 1).
    Only for a process without threads: unlike the C library's fork, this copies held
    locks held. The child returns as a parent does from os.fork (the import lock freed,
    the parent's at-fork hooks run), not as a child: it has no threads to forget, and an
    init only forks (the job process, in which os.fork reseeds `random` and resets
    `threading`) and waits, so the child's hooks would only copy pages. Raises
    IsolationError where the system call's number is not known here (see CAN_CLONE).
    """
    if _SYS_CLONE is None:
        raise IsolationError(errno.ENOSYS, f"clone: unknown on {platform.machine()}")
    ctypes.pythonapi.PyOS_BeforeFork()  # what os.fork does around the system call
    pid = _libc_locked.syscall(_SYS_CLONE, ctypes.c_ulong(JOB_NAMESPACES | signal.SIGCHLD), None, None, None, None)
    ctypes.pythonapi.PyOS_AfterFork_Parent()
    _check(0 if pid >= 0 else -1, "clone")
    return pid


def map_own_ids(uid: int, gid: int) -> None:
    """In a new user namespace: map our uid and gid (as they were outside) to themselves,
    so files keep their owners."""
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        _write(f"/proc/self/{name}", text)


def parent_pid() -> int:
    """Our parent's pid as the engine sees it, even if it is PID 1 of our namespace (read
    before our own /proc hides the outer namespace)."""
    fd = os.open("/proc/self/status", os.O_RDONLY)
    try:
        status = os.read(fd, 1 << 16)
    finally:
        os.close(fd)
    for line in status.splitlines():
        if line.startswith(b"PPid:"):
            return int(line.split()[1])
    return os.getppid()


def tmpfs(target: str, size_mb: int, mode: str = "1777") -> None:
    """A private size-capped tmpfs on `target`, hiding what was there."""
    _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size_mb}m,mode={mode}")


def private_mounts() -> None:
    """Our mounts stop propagating to the zygote's namespace, and its to ours."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)


def own_proc() -> None:
    """A /proc of our PID namespace: only the job's processes are listed."""
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def bind(source: str, target: str) -> None:
    """Make `source` visible (writable) at `target`."""
    _mount(source, target, None, MS_BIND | MS_REC)


def bind_read_only(source: str, target: str) -> None:
    """Make `source` visible at `target`, read-only."""
    _mount(source, target, None, MS_BIND | MS_REC)
    _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def drop_privileges() -> None:
    """Give up every capability for good and forbid gaining any through exec."""
    for cap in range(CAP_LAST + 1):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # EINVAL past the kernel's last cap: fine
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header, data = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")


def join_cgroup(cgroups: dict, spare: int) -> None:
    """Make the job's group `job-<spare>` in the pool's cgroup folders, set its default
    limits and move this process into it (its children, the job's, follow).

    `cgroups`: {"version", "memory", "pids" (folders as seen here), "memory_mb",
    "max_processes"}. Done ahead of any job: a move can wait for a kernel grace period.
    """
    memory, pids = f"{cgroups['memory']}/job-{spare}", f"{cgroups['pids']}/job-{spare}"
    folders = list(dict.fromkeys([memory, pids]))
    for folder in folders:
        os.mkdir(folder)
    cap = str(cgroups["memory_mb"] * 2**20)
    if cgroups["version"] == 1:
        _write(f"{memory}/memory.limit_in_bytes", cap)
        _write(f"{memory}/memory.memsw.limit_in_bytes", cap, optional=True)
    else:
        _write(f"{memory}/memory.max", cap)
        _write(f"{memory}/memory.swap.max", "0", optional=True)
    _write(f"{pids}/pids.max", str(cgroups["max_processes"]))
    for folder in folders:
        _write(f"{folder}/cgroup.procs", str(os.getpid()))


def _write(path: str, value: str, optional: bool = False) -> None:
    """Write a kernel setting's file (with plain system calls: this runs in every spare,
    where each object the io module would make costs copied pages)."""
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, value.encode())
        finally:
            os.close(fd)
    except OSError:
        if not optional:
            raise
