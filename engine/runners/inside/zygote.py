"""The zygote: a warm interpreter whose forked children run script jobs.

Run as a program inside the sandbox (engine/runners/sandbox.py), never imported by the
engine: ``python zygote.py CONFIG_JSON``, CONFIG being {"socket", "workroot", "spares",
"isolate", "disk_mb", "cwd_root": [host prefix, path inside] or null, "shared_in_tmp",
"cgroups": see isolation.join_cgroup, or null, and for a dependency lock's zygote "paths"
(its packages, put first on sys.path) and "preload" (modules imported ahead)}.
It imports the common runtime once and keeps SPARES spares ready on the Unix socket;
each takes one connection and runs exactly that job. The zygote itself never reads a
job, so no user input can reach it.

A spare is two processes, both made ahead of any job (so none of it is on a job's
path): the *init*, cloned from the zygote into new namespaces (isolation.py), of which
it is PID 1, joins the job's cgroup, mounts the job's own /proc, /tmp and folder and
forks the *job process*. That one warms up and waits for a connection; per job it
reports the spare's and the init's pids (frame ``P``), receives the job (frames.py), drops
every privilege and runs it: Python in this interpreter (pyjob.py), SQL too (sqljob.py), anything else
(bash, bun) by exec'ing it, with the connection as fd 3 when asked (bun reports its
result there). When the job process ends, the init writes how on its status pipe and
exits, which ends every process left in the namespace; the zygote reaps the init and
reports the job's exit code. (A zygote with threads forks a *keeper* that clones the
init for it: see Zygote.start_spare.)

Zygote -> engine, on its stdout: ``ready`` once serving, then ``exit PID CODE`` for
every reaped spare (CODE negative: killed by that signal).
"""

from __future__ import annotations

import array
import base64
import collections
import dataclasses
import decimal
import enum
import functools
import gc
import importlib
import io
import itertools
import json
import math
import os
import pathlib
import random
import resource
import select
import selectors
import shutil
import signal
import site
import socket
import string
import sys
import textwrap
import threading
import time
import typing
import uuid

import dedicated
import isolation
import pyjob
import sqljob
from frames import receive_job, send_error, send_frame

PRELOADED = (array, base64, collections, dataclasses, decimal, enum, functools, io)
PRELOADED += (itertools, math, pathlib, random, string, textwrap, time, uuid)

MAX_FD = os.sysconf("SC_OPEN_MAX")
RESULT_FD = 3
"""Where an exec'd program that reports frames (bun's wrapper) finds the connection."""


@dataclasses.dataclass(frozen=True)
class Config:
    """How the zygote serves: see the module docstring."""

    socket: str
    workroot: str
    spares: int
    isolate: bool
    disk_mb: int
    cwd_root: tuple[str, str] | None
    shared_in_tmp: tuple[str, ...] = ()
    cgroups: dict | None = None
    """Where each spare makes its job's cgroup, and the default limits (isolation.join_cgroup)."""
    read_only_in_tmp: tuple[str, ...] = ()
    """The interpreter's folders under the host's /tmp, shown again read-only in each job."""


def report(line: str) -> None:
    """Tell the engine something on the control channel (the zygote's stdout)."""
    os.write(1, (line + "\n").encode())


def watch_engine(conn: socket.socket) -> None:
    """End this job as soon as the engine hangs up.

    The engine sends nothing after the job, so the connection ends only when the
    engine is done with the job or is gone (killed, crashed): then nobody reads the
    script's output or enforces its timeout, and it must not run on alone. (The job
    process is PID 1 of its namespace: its exit ends every process the job started.)
    """

    def wait() -> None:
        try:
            conn.recv(1)
        except OSError:
            pass
        os._exit(137)

    threading.Thread(target=wait, name="millrace-engine-watch", daemon=True).start()


class Zygote:
    """Keeps `spares` spares ready on the socket; reaps them and reports how their jobs ended.

    A spare accepts one connection itself, tells the zygote through a pipe, and runs
    that job; the zygote starts a replacement at once. So neither the fork, nor the
    namespaces, nor the first copies of the runtime's pages are on a job's path.
    Spares hold nothing of the control channel and exit when the zygote dies, so a
    killed zygote leaves nothing behind that could take a job or keep the engine waiting.
    """

    def __init__(self, config: Config):
        self.config = config
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(config.socket)
        self.listener.listen(128)
        # Spares accept connections themselves, each in its own time.
        self.listener.setblocking(False)
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        self.taken_r, self.taken_w = os.pipe()
        # Only the zygote holds the write end: a spare sees it close when the zygote dies.
        self.alive_r, self.alive_w = os.pipe()
        self.spares: set[int] = set()
        self.statuses: dict[int, int] = {}
        """The read end of each spare's status pipe, on which its init says how the job ended."""
        self.reported: set[int] = set()
        """Spares whose job's end was reported before they were reaped."""
        self.failures = 0
        self.ids = os.getuid(), os.getgid()
        self.ids_mapped = False
        """Whether our uid and gid are mapped in the job's user namespace (a keeper did it)."""
        self.let_go_done = False
        self.selector = selectors.DefaultSelector()

    def serve(self) -> None:
        """Keep the spares ready until the engine closes our stdin."""
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.selector.register(self.taken_r, selectors.EVENT_READ, self.on_taken)
        self.selector.register(self.wake_r, selectors.EVENT_READ, self.on_signal)
        self.selector.register(0, selectors.EVENT_READ, None)
        gc.freeze()  # children then share the runtime's pages instead of copying them
        self.refill()
        report("ready")
        while True:
            for key, _events in self.selector.select():
                if key.data is None:
                    if not os.read(0, 4096):
                        return self.shut_down()
                else:
                    key.data()

    def refill(self) -> None:
        """Start spares until there are enough (unless spares keep dying at birth)."""
        while len(self.spares) < self.config.spares and self.failures < 10:
            status_r, status_w = os.pipe()
            try:
                pid = self.start_spare(status_w)
            except OSError:
                pid = None
            os.close(status_w)
            if pid is None:
                os.close(status_r)
                return
            os.set_blocking(status_r, False)
            self.statuses[pid] = status_r
            self.selector.register(status_r, selectors.EVENT_READ, functools.partial(self.on_status, pid))
            self.spares.add(pid)

    def start_spare(self, status: int) -> int:
        """Start one spare: its init, cloned straight into the job's new namespaces (two
        processes a job), or forked where there are none to enter (sandbox off); the pid
        the zygote reaps.

        A zygote with threads (a preloaded package's), or on a machine whose clone call is
        not known here, forks a keeper, which enters the namespaces, forks the init and
        ends as it ends: the C library's fork leaves no lock that another thread holds
        (malloc's, say) held in the child, a bare clone would.
        """
        if self.config.isolate and isolation.CAN_CLONE and not has_threads():
            pid = isolation.clone_into_namespaces()
            if pid == 0:
                be_init(self, None, status)
            return pid
        pid = os.fork()
        if pid == 0:
            if self.config.isolate:
                self.be_keeper(status)
            be_init(self, None, status)
        return pid

    def on_taken(self) -> None:
        for pid in os.read(self.taken_r, 4096).split():
            self.spares.discard(int(pid))
        self.failures = 0
        self.refill()

    def on_status(self, spare: int) -> None:
        """The init of `spare` said how its job ended: report it at once, not after the
        kernel has torn its namespaces down (what a job that ends by exiting waits for)."""
        code = self.said(spare)
        if code is not None:
            report(f"exit {spare} {code}")
            self.reported.add(spare)

    def on_signal(self) -> None:
        os.read(self.wake_r, 4096)
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in self.reported:
                self.reported.discard(pid)
            else:  # killed with its job, or before it ran one
                code = self.said(pid)
                report(f"exit {pid} {os.waitstatus_to_exitcode(status) if code is None else code}")
            shutil.rmtree(job_dir(self.config.workroot, pid), ignore_errors=True)
            if pid in self.spares:
                self.spares.discard(pid)
                self.failures += 1
        self.refill()

    def said(self, spare: int) -> int | None:
        """The exit code the init of `spare` wrote on its status pipe, if any; the pipe is then closed."""
        pipe = self.statuses.pop(spare, None)
        if pipe is None:
            return None
        self.selector.unregister(pipe)
        try:
            said = os.read(pipe, 64).strip()
        except BlockingIOError:
            said = b""
        finally:
            os.close(pipe)
        return int(said) if said else None

    def let_go(self) -> None:
        """In a new spare: drop what is the zygote's alone (its signal handling, its end of
        the pipes, the other spares' status pipes, the control channel on stdout, so that
        the engine sees it end when the zygote dies, however many spares still wait)."""
        if self.let_go_done:  # a keeper did it
            return
        self.let_go_done = True
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        self.selector.close()
        for fd in (self.wake_r, self.wake_w, self.taken_r, self.alive_w, *self.statuses.values()):
            os.close(fd)
        self.statuses.clear()
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.close(devnull)

    def be_keeper(self, status: int) -> typing.NoReturn:
        """In a forked child of a zygote with threads: enter new namespaces, fork the job's
        init (their PID 1) and end as it ends (its pid is the one the zygote knows)."""
        code = 70
        try:
            isolation.set_parent_death_signal(signal.SIGKILL)
            self.let_go()
            os.setsid()  # own process group: the engine ends the spare with its job
            keeper = os.getpid()
            isolation.enter_namespaces()
            self.ids_mapped = True
            init = os.fork()
            if init == 0:
                be_init(self, keeper, status)
            self.listener.close()
            for fd in (self.taken_w, self.alive_r, status):
                os.close(fd)
            code = keep(init)
        finally:
            os._exit(code)

    def shut_down(self) -> None:
        """Stop the spares; jobs running finish on their own (see watch_engine)."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for pid in self.spares:
            os.kill(pid, signal.SIGKILL)


def has_threads() -> bool:
    """Whether this process runs more than one thread."""
    return len(os.listdir("/proc/self/task")) > 1


def keep(init: int) -> int:
    """In a keeper: wait for the job's init; return its exit code, or die of its signal."""
    _pid, status = os.waitpid(init, 0)
    code = os.waitstatus_to_exitcode(status)
    if code < 0:  # killed (a PID 1 is killed only by SIGKILL): end the same way
        os.kill(os.getpid(), signal.SIGKILL)
    return code


def job_dir(workroot: str, spare: int) -> str:
    """The job's own fresh working directory (the zygote removes it after the spare)."""
    return os.path.join(workroot, f"job-{spare}")


def zygote_gone(alive: int) -> bool:
    """Whether the zygote has died (its end of the `alive` pipe closed)."""
    return bool(select.select([alive], [], [], 0)[0])


def be_init(zygote: Zygote, spare: int | None, status: int) -> typing.NoReturn:
    """Be PID 1 of a job's namespaces (without the sandbox: the spare's first process).

    It forks the job process at once and does nothing else, so that it copies as few of
    the zygote's pages as it can: the job process sets the namespaces up. It keeps no
    file of the zygote's open, reaps whatever the job orphans and, when the job process
    ends, writes how on `status` (the zygote reports it: a PID 1 cannot die of a signal it
    sends itself) and exits, which ends every process left in the namespace.
    `spare`: the pid the zygote knows the spare by (its keeper's), or None: ours.
    """
    code = 70
    try:
        isolation.set_parent_death_signal(signal.SIGKILL)
        os.setsid()  # own process group: the engine ends the spare with its job
        job = os.fork()
        if job == 0:
            JobProcess(zygote, spare, status).run()
        signal.set_wakeup_fd(-1)  # the zygote's signal handling is not ours
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.closerange(0, status)
        os.closerange(status + 1, MAX_FD)
        os.write(status, str(reap(job)).encode())
        code = 0
    finally:
        os._exit(code)


def reap(job: int) -> int:
    """Wait for the job process (reaping any other child); its exit code."""
    while True:
        pid, status = os.wait()
        if pid == job:
            return os.waitstatus_to_exitcode(status)


def mount_job_files(config: Config) -> int | None:
    """The job's file system; returns a handle on the host's temporary folder (see
    JobProcess.working_directory), or None.

    The job's folder, /tmp and /dev/shm are folders of one tmpfs of `disk_mb`, which
    covers the other jobs' folders and the zygote's socket: the job's writable space
    is capped as a whole.
    """
    isolation.private_mounts()
    if config.cgroups is not None and config.isolate:  # the job may not change its limits
        isolation.tmpfs(os.path.dirname(config.cgroups["memory"]), 1, "0755")
    cwd_root = None
    if config.cwd_root is not None:
        cwd_root = os.open(config.cwd_root[1], os.O_PATH | os.O_DIRECTORY)
        isolation.tmpfs(config.cwd_root[1], 1, "0755")
    isolation.own_proc()
    isolation.tmpfs(config.workroot, config.disk_mb, "0755")
    for shared in ("/tmp", "/dev/shm"):
        if os.path.isdir(shared):
            inner = os.path.join(config.workroot, shared.replace("/", "_"))
            os.mkdir(inner)
            os.chmod(inner, 0o1777)
            isolation.bind(inner, shared)
    for relative in config.shared_in_tmp:  # folders every job shares (the operator's choice)
        inside = os.path.join(config.cwd_root[0], relative)
        os.makedirs(inside, exist_ok=True)
        isolation.bind(f"/proc/self/fd/{cwd_root}/{relative}", inside)
    for relative in config.read_only_in_tmp:  # the interpreter, from a checkout under /tmp
        inside = os.path.join(config.cwd_root[0], relative)
        os.makedirs(inside, exist_ok=True)
        isolation.bind_read_only(f"/proc/self/fd/{cwd_root}/{relative}", inside)
    return cwd_root


class JobProcess:
    """The job process of one spare: gets ready ahead, then takes one job and runs it."""

    def __init__(self, zygote: Zygote, spare: int | None, status: int):
        self.zygote, self.config, self.status = zygote, zygote.config, status
        self.spare = spare
        """The pid the zygote knows our spare by (None until `enter`: our init's)."""
        self.init: int | None = None
        """The pid (as the engine sees it) of our namespace's PID 1: killing it ends the job."""
        self.cwd_root_fd: int | None = None

    def run(self) -> typing.NoReturn:
        code = 0
        try:
            isolation.set_parent_death_signal(signal.SIGKILL)
            os.close(self.status)
            self.zygote.let_go()
            if zygote_gone(self.zygote.alive_r):  # it died before our init's death signal was set
                return
            self.enter()
            self.prepare()
            conn = self.accept()
            if conn is None:
                return
            os.write(self.zygote.taken_w, f"{self.spare}\n".encode())
            self.zygote.listener.close()
            for fd in (self.zygote.taken_w, self.zygote.alive_r):
                os.close(fd)
            # The engine learns our own pid from the connection's credentials.
            send_frame(conn, b"P", f"{self.spare} {self.init}".encode())
            job = receive_job(conn)
            if not job.get("dedicated"):  # a dedicated worker watches the connection itself
                watch_engine(conn)
            self.start(conn, job)
        except BaseException:  # a broken connection or an engine bug: nothing left to tell
            code = 70
        finally:
            pyjob.flush_output()
            os._exit(code)

    def enter(self) -> None:
        """Set up the namespaces our init is PID 1 of: our ids in its user namespace, the
        job's cgroup, the job's file system."""
        self.init = isolation.parent_pid()  # as the engine sees it: /proc is still the sandbox's
        self.spare = self.spare or self.init
        if self.config.isolate and not self.zygote.ids_mapped:
            isolation.map_own_ids(*self.zygote.ids)
        if self.config.cgroups is not None:
            isolation.join_cgroup(self.config.cgroups, self.spare)
        if self.config.isolate:
            self.cwd_root_fd = mount_job_files(self.config)

    def prepare(self) -> None:
        """What does not depend on the job: its session, folder, line-buffered output, a warm-up."""
        os.setsid()  # the script's process group is its own: a kill(0) stays within the job
        os.mkdir(job_dir(self.config.workroot, self.spare), 0o700)  # made ahead: mkdir can be slow
        # Line buffering makes every print reach the engine as soon as its line ends.
        sys.stdout.reconfigure(line_buffering=True)
        sys.stderr.reconfigure(line_buffering=True)
        gc.enable()
        pyjob.warm_up()

    def accept(self) -> socket.socket | None:
        """The next job's connection, or None once the zygote is gone."""
        listener, alive = self.zygote.listener, self.zygote.alive_r
        while True:
            ready, _, _ = select.select([listener, alive], [], [])
            if alive in ready:
                return None
            try:
                conn, _addr = listener.accept()
            except BlockingIOError:  # another spare took it
                continue
            conn.setblocking(True)
            return conn

    def start(self, conn: socket.socket, job: dict) -> None:
        """Settle the working directory, drop privileges, run the job."""
        own = job_dir(self.config.workroot, self.spare)
        try:
            job["cwd"] = self.working_directory(job.get("cwd")) or own
        except OSError as exc:
            return send_error(conn, "SandboxError", f"cannot give the job its working directory: {exc}")
        finally:
            if self.cwd_root_fd is not None:  # a way into the host's /tmp: never the script's
                os.close(self.cwd_root_fd)
                self.cwd_root_fd = None
        for name, text in (job.get("files") or {}).items():
            place = os.path.normpath(os.path.join(own, name))
            if os.path.commonpath([place, own]) != own:  # names are the engine's: never outside
                raise PermissionError(f"job file {name!r} is outside the job's folder")
            os.makedirs(os.path.dirname(place), exist_ok=True)
            with open(place, "w") as file:
                file.write(text)
        for name, target in (job.get("links") or {}).items():  # node_modules of the step's lock
            os.symlink(target, os.path.join(own, os.path.basename(name)))
        job["job_dir"] = own
        if self.config.isolate:
            isolation.drop_privileges()
        if job.get("exec"):
            return self.exec(conn, job)
        if job.get("sql"):
            return sqljob.run_job(conn, job)
        if job.get("dedicated"):
            return dedicated.serve(conn, job)
        pyjob.run_job(conn, job)

    def working_directory(self, wanted: str | None) -> str | None:
        """A folder the engine gave the job (a flow's shared folder), made visible to it alone."""
        if wanted is None or self.cwd_root_fd is None:
            return wanted
        host_prefix, _inside = self.config.cwd_root
        relative = os.path.relpath(os.path.realpath(wanted), host_prefix)
        if relative.startswith(".."):
            raise PermissionError(f"working directory {wanted} is outside {host_prefix}")
        os.makedirs(wanted, exist_ok=True)
        isolation.bind(f"/proc/self/fd/{self.cwd_root_fd}/{relative}", wanted)
        return wanted

    def exec(self, conn: socket.socket, job: dict) -> typing.NoReturn:
        """Become the job's program (bash, bun), with the job's limits and environment."""
        if job.get("memory_mb"):
            cap = job["memory_mb"] * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        os.chdir(job["cwd"])
        if job.get("result_fd"):
            os.dup2(conn.fileno(), RESULT_FD)  # dup2 leaves the copy inheritable
        argv = [arg.replace("{job_dir}", job_dir(self.config.workroot, self.spare)) for arg in job["exec"]]
        os.execve(argv[0], argv, job["env"])


def use_packages(paths: list[str], preload: list[str]) -> None:
    """Put a lock's packages first on sys.path (with their .pth files) and import the
    job's modules ahead, so that forked jobs find them loaded. A module that fails to
    import here is left to fail in the job, with its traceback."""
    before = list(sys.path)
    for path in paths:
        site.addsitedir(path)
    sys.path[:] = [p for p in sys.path if p not in before] + before
    if not preload:
        return
    # stdout is the control channel: what a package prints at import goes nowhere.
    saved = os.dup(1), os.dup(2)
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    try:
        for name in preload:
            try:
                importlib.import_module(name)
            except BaseException:  # noqa: BLE001 - whatever a package does at import, the zygote serves on
                sys.modules.pop(name, None)
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        for fd, original in zip((1, 2), saved):
            os.dup2(original, fd)
            os.close(original)
        os.close(quiet)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.disable()
    settings = json.loads(sys.argv[1])
    use_packages(settings.get("paths") or [], settings.get("preload") or [])
    root = settings.get("cwd_root")
    Zygote(Config(settings["socket"], settings["workroot"], int(settings["spares"]), bool(settings["isolate"]),
                  int(settings["disk_mb"]), tuple(root) if root else None,
                  tuple(settings.get("shared_in_tmp") or ()), settings.get("cgroups"),
                  tuple(settings.get("read_only_in_tmp") or ()))).serve()
