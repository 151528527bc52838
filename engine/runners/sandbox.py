"""Where user code runs: the sandbox around the zygote, and the settings of every job in it.

Every script (Python, Bash, TypeScript) runs in a child of the zygote
(engine/runners/inside/), and the zygote runs under bubblewrap (`bwrap`, Debian package
`bubblewrap`): new user, IPC and UTS namespaces (and network, when a worker group is
configured without it), a read-only view of the system (/usr, a few files of /etc),
of the Python, bun and Deno installations, of the installed dependency environments
(engine/deps/, at DEPS_MOUNT) and of the zygote's own code, and nothing of the
app: not its data folder, secret key, database or source tree, not other runs'
folders, not its environment (the zygote starts with an empty one plus PATH, HOME and
locale; each job then gets only what its step is given). Each job adds its own PID,
mount and user namespaces (inside/isolation.py) and, where the machine allows,
cgroup limits (engine/runners/cgroups.py).

Where bubblewrap is missing or the kernel refuses namespaces, no user code runs at all
(the job fails saying why) unless `MILLRACE_SANDBOX=off` is set explicitly.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

INSIDE_DIR = Path(__file__).with_name("inside")
INSIDE_MOUNT = "/opt/millrace/inside"
RUNTIME_MOUNT = "/opt/millrace/runtime"
CWD_ROOT_MOUNT = "/run/millrace/cwd-root"
HELPER_MOUNT = "/opt/millrace/helper"
DEPS_MOUNT = "/opt/millrace/deps"
"""Where jobs see the dependency cache's environments (read-only)."""
WORK_MOUNT = "/run/millrace/work"
DATA_MOUNT = "/data"
"""Where every job sees the data folder (SandboxPolicy.data_dir), when there is one."""
"""Where the zygote's socket and the jobs' folders are inside (outside /tmp, which each job replaces)."""
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
ETC_FILES = ("alternatives", "ca-certificates", "ca-certificates.conf", "ssl", "pki", "ld.so.cache",
             "ld.so.conf", "ld.so.conf.d", "hosts", "host.conf", "resolv.conf", "nsswitch.conf", "gai.conf",
             "passwd", "group", "localtime", "timezone", "services", "protocols", "mime.types", "os-release",
             "debian_version", "locale.alias", "bash.bashrc", "inputrc")
"""What of /etc a script sees: name resolution, certificates, users, time zone. Never shadow files."""
BASE_PATH = "/usr/local/bin:/usr/bin:/bin"
DEFAULT_DISK_MB = 1024
DEFAULT_PROCESSES = 512
PROBE_TIMEOUT = 20.0


class SandboxUnavailable(RuntimeError):
    """User code may not run: no sandbox here and `MILLRACE_SANDBOX=off` is not set."""


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value not in ("0", "off", "false", "no")


@dataclass(frozen=True)
class SandboxPolicy:
    """What the sandbox of a runner pool allows; read from the environment by default.

    Attributes:
        enabled: run user code under bubblewrap (`MILLRACE_SANDBOX`, default on; only
            `off` turns it off).
        network: scripts may use the network (`MILLRACE_SANDBOX_NETWORK`, default on).
        disk_mb: writable space of a job: its folder, /tmp and /dev/shm together
            (`MILLRACE_SCRIPT_DISK_MB`, default 1024).
        max_processes: processes and threads a job may have at once
            (`MILLRACE_SCRIPT_MAX_PROCESSES`, default 512; needs cgroups).
        shared: host folders every job sees, writable, at their own paths
            (`MILLRACE_SANDBOX_SHARED`, separated by `:`; default none). Whatever is
            there is readable and writable by every script.
        data_dir: a host folder every job sees, writable, at `/data`
            (`MILLRACE_SCRIPT_DATA_DIR`; the app's default: `files/` in its data
            folder): files that outlive a run, such as a DuckDB database. Readable and
            writable by every script.
    """

    enabled: bool = True
    network: bool = True
    disk_mb: int = DEFAULT_DISK_MB
    max_processes: int = DEFAULT_PROCESSES
    shared: tuple[str, ...] = ()
    data_dir: str | None = None
    extra_ro: tuple[str, ...] = field(default=())
    """More host paths to show read-only (the bun installation, say)."""
    ro_mounts: tuple[tuple[str, str], ...] = field(default=())
    """Host folders shown read-only elsewhere: (host path, path inside). The dependency cache."""

    @classmethod
    def from_env(cls, *, network: bool | None = None) -> "SandboxPolicy":
        mode = os.environ.get("MILLRACE_SANDBOX", "").strip().lower()
        return cls(
            enabled=mode != "off",
            network=_env_flag("MILLRACE_SANDBOX_NETWORK", True) if network is None else network,
            disk_mb=int(os.environ.get("MILLRACE_SCRIPT_DISK_MB") or DEFAULT_DISK_MB),
            max_processes=int(os.environ.get("MILLRACE_SCRIPT_MAX_PROCESSES") or DEFAULT_PROCESSES),
            shared=tuple(os.path.realpath(path) for path in
                         os.environ.get("MILLRACE_SANDBOX_SHARED", "").split(":") if path.strip()),
            data_dir=os.path.realpath(os.environ["MILLRACE_SCRIPT_DATA_DIR"])
            if os.environ.get("MILLRACE_SCRIPT_DATA_DIR", "").strip() else None,
        )

    def read_only_in_tmp(self) -> list[str]:
        """The interpreter's and the other read-only folders under the host's temporary
        folder (a checkout under /tmp), relative to it: bound again, read-only, inside each
        job, whose /tmp is its own."""
        return [os.path.relpath(path, host_tmp()) for path in [*python_roots(), *self.extra_ro]
                if _under(path, host_tmp())]

    def shared_in_tmp(self) -> list[str]:
        """The shared folders under the host's temporary folder, relative to it.

        Each job has a /tmp of its own, so these are bound again inside each job
        (inside/zygote.py); the others are bound once, around the zygote.
        """
        return [os.path.relpath(path, host_tmp()) for path in self.shared if _under(path, host_tmp())]


def find_bwrap() -> str | None:
    """The bubblewrap executable (`MILLRACE_BWRAP`, else `bwrap` on PATH), or None."""
    configured = os.environ.get("MILLRACE_BWRAP")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("bwrap")


def host_tmp() -> str:
    """The host's temporary folder (flows' shared folders and test folders live there)."""
    return os.path.realpath(tempfile.gettempdir())


def python_roots() -> list[str]:
    """The folders the interpreter needs: the venv and the installation it was made from."""
    roots = {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix), os.path.realpath(sys.exec_prefix)}
    executable = os.path.realpath(sys.executable)
    roots.add(os.path.dirname(os.path.dirname(executable)))
    return sorted(roots)


@functools.cache  # asked for every job's environment; the interpreter does not move
def python_executable() -> str:
    """The interpreter to start the zygote with: the venv's own `python`, so its packages count."""
    if sys.prefix != sys.base_prefix:
        return os.path.join(os.path.realpath(sys.prefix), "bin", "python")
    return os.path.realpath(sys.executable)


def clean_env() -> dict[str, str]:
    """The whole environment a sandboxed process starts with: nothing of the app's."""
    return {"PATH": f"{os.path.dirname(python_executable())}:{BASE_PATH}", "HOME": "/tmp", "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8", "TMPDIR": "/tmp", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}


def bwrap_argv(policy: SandboxPolicy, *, work: str, runtime: str, binds: dict[str, str] | None = None) -> list[str]:
    """The bubblewrap command line that the zygote runs under (before its own argv).

    Args:
        policy: network and paths.
        work: the host folder of the zygote's socket and its jobs' folders, shown
            writable at WORK_MOUNT.
        runtime: a host folder shown read-only at RUNTIME_MOUNT (files the engine
            writes once for all jobs, such as bun's wrapper).
        binds: more host folders shown writable, to where (the pool's cgroup folders).
    """
    bwrap = find_bwrap()
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
    argv = [bwrap, "--unshare-user", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--hostname", "millrace-job", "--clearenv"]
    if not policy.network:
        argv.append("--unshare-net")
    # /tmp first: the folders bound next may be under the host's /tmp (a checkout there).
    argv += [*system_view(), "--tmpfs", "/tmp"]
    for path in [*python_roots(), *policy.extra_ro]:
        argv += ["--ro-bind", path, path]
    for source, target in policy.ro_mounts:
        argv += ["--ro-bind", source, target]
    argv += ["--ro-bind", str(INSIDE_DIR), INSIDE_MOUNT, "--ro-bind", runtime, RUNTIME_MOUNT]
    # The host's /proc (a fully visible one) lets each job mount a /proc of its own;
    # jobs never see this one.
    argv += ["--bind", "/proc", "/proc", "--dev", "/dev", "--tmpfs", "/run"]
    argv += ["--bind", host_tmp(), CWD_ROOT_MOUNT, "--bind", work, WORK_MOUNT]
    for source, target in (binds or {}).items():
        argv += ["--bind", source, target]
    for path in policy.shared:
        if not _under(path, host_tmp()):
            argv += ["--bind", path, path]
    if policy.data_dir:
        os.makedirs(policy.data_dir, exist_ok=True)
        argv += ["--bind", policy.data_dir, DATA_MOUNT]
    for key, value in clean_env().items():
        argv += ["--setenv", key, value]
    return argv + ["--chdir", "/"]


def helper_argv(program: Path, *args: str) -> tuple[list[str], str | None]:
    """The command line of a helper program that evaluates user code (JavaScript
    expressions): under bubblewrap with no network, no writable folder but a tmpfs, an
    empty environment and a PID namespace of its own; unsandboxed where
    `MILLRACE_SANDBOX=off`.

    Returns:
        The command line, and why user code may not run in it: where the sandbox is on
        but cannot be made here, the helper runs unsandboxed for what runs no user code
        (syntax checks, so that flows still load) and must refuse the rest.
    """
    policy = SandboxPolicy.from_env(network=False)
    if not policy.enabled:
        return [python_executable(), "-I", str(program), *args], None
    refused = refusal(policy)
    if refused is not None:
        return [python_executable(), "-I", str(program), *args], refused
    # Not --die-with-parent: that follows the thread that started the helper, and helpers
    # outlive the threads that start them; a helper ends when its requests pipe does.
    argv = [find_bwrap(), "--unshare-all", "--clearenv", *system_view(etc=False), "--tmpfs", "/tmp"]
    for path in python_roots():
        argv += ["--ro-bind", path, path]
    argv += ["--ro-bind", str(program), f"{HELPER_MOUNT}/{program.name}", "--proc", "/proc", "--dev", "/dev",
             "--chdir", "/"]
    return argv + [python_executable(), "-I", f"{HELPER_MOUNT}/{program.name}", *args], None


def tool_argv(program: list[str], *, writable: list[str], readable: list[str]) -> list[str]:
    """The command line of a package tool (uv, bun) that installs a step's dependencies:
    a package's build or install code is user code too. Under bubblewrap with the network,
    the system, Python and `readable` read-only, `writable` (the environment being built,
    the tools' download caches) the only writable places but a tmpfs, and its own PID
    namespace; as it is where `MILLRACE_SANDBOX=off`.

    Raises:
        SandboxUnavailable: the sandbox is on but cannot be made here (with why).
    """
    policy = SandboxPolicy.from_env(network=True)
    if not policy.enabled:
        return program
    refused = refusal(policy)
    if refused is not None:
        raise SandboxUnavailable(refused)
    argv = [find_bwrap(), "--unshare-user", "--unshare-ipc", "--unshare-uts", "--unshare-pid", "--unshare-cgroup-try",
            "--die-with-parent", *system_view(), "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for path in [*python_roots(), *readable]:
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    for path in writable:
        argv += ["--bind", path, path]
    return argv + ["--chdir", writable[0] if writable else "/", *program]


def system_view(*, etc: bool = True) -> list[str]:
    """bubblewrap arguments that show the system read-only (and the few files of /etc scripts need)."""
    argv: list[str] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    for name in ETC_FILES if etc else ():
        if os.path.exists(f"/etc/{name}"):
            argv += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    return argv


def _under(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder


_PROBES_AHEAD: dict[bool, threading.Thread] = {}


def probe_ahead(network: bool) -> None:
    """Start `probe` in the background (a bwrap process: tens of milliseconds), so that a
    process starting up does other work meanwhile; `refusal` waits for it."""
    if network not in _PROBES_AHEAD:
        thread = threading.Thread(target=probe, args=(network,), name="millrace-sandbox-probe", daemon=True)
        _PROBES_AHEAD[network] = thread
        thread.start()


def probe_finished(network: bool) -> None:
    """Wait for a probe `probe_ahead` started, if any (its bwrap process and scratch
    folder are gone afterwards, even if the process exits next)."""
    ahead = _PROBES_AHEAD.get(network)
    if ahead is not None:
        ahead.join()


@functools.lru_cache(maxsize=None)
def probe(network: bool) -> str | None:
    """Why a sandbox cannot be made on this machine (bwrap and nested namespaces), or None."""
    if find_bwrap() is None:
        return ("bubblewrap (bwrap) is not installed (or MILLRACE_BWRAP names no executable): install the "
                "Debian package `bubblewrap`")
    scratch = tempfile.mkdtemp(prefix="millrace-probe-")
    try:
        policy = SandboxPolicy(network=network)
        argv = bwrap_argv(policy, work=scratch, runtime=scratch)
        check = f"import sys; sys.path.insert(0, {INSIDE_MOUNT!r}); import isolation; isolation.enter_namespaces()"
        done = subprocess.run([*argv, python_executable(), "-c", check], capture_output=True,
                              timeout=PROBE_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start: {exc}"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()
        return f"the kernel refused a sandbox: {said[-1] if said else f'exit code {done.returncode}'}"
    return None


def refusal(policy: SandboxPolicy) -> str | None:
    """Why no user code may run under `policy` here (with what to do about it), or None."""
    if not policy.enabled:
        return None
    probe_finished(policy.network)
    why = probe(policy.network)
    if why is None:
        return None
    return (f"user code is not run without a sandbox, and none can be made here: {why}. Allow user "
            "namespaces (under Docker: --security-opt seccomp=unconfined --security-opt apparmor=unconfined, "
            "or --privileged; see the README's security model), or set MILLRACE_SANDBOX=off to run scripts "
            "without isolation")
