"""Bubblewrap sandbox for user code: `wrap(argv, ...)` turns a command into a bwrap command line.

The sandbox unshares every namespace (network kept unless MILLRACE_SANDBOX_NETWORK=off),
binds the system directories and the interpreter read-only, the job folder read-write,
gives a size-capped tmpfs /tmp, a fresh /proc (new PID namespace: when the top process
ends, bwrap's init kills the rest) and /dev, and clears the environment to PATH, HOME,
LANG, the WM_* / BASE_INTERNAL_URL variables and the step-given ones.

If bwrap is missing or the kernel refuses it, user code is refused (SandboxUnavailable)
unless MILLRACE_SANDBOX=off is set explicitly.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

TMP_SIZE = 256 << 20
DEFAULT_NPROC = 256
_SYSTEM = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"]


class SandboxUnavailable(RuntimeError):
    """bwrap cannot run here and MILLRACE_SANDBOX=off was not set."""


def disabled() -> bool:
    """Whether the sandbox was switched off explicitly (MILLRACE_SANDBOX=off)."""
    return os.environ.get("MILLRACE_SANDBOX", "").lower() == "off"


def network_off() -> bool:
    return os.environ.get("MILLRACE_SANDBOX_NETWORK", "").lower() == "off"


@functools.lru_cache(maxsize=1)
def _probe() -> str | None:
    """None if `bwrap --unshare-all true` works, else why not (probed once)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bwrap (bubblewrap) is not installed"
    try:
        done = subprocess.run(
            [bwrap, "--unshare-all", "--ro-bind", "/", "/", "true"],
            capture_output=True, timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap failed to run: {exc}"
    if done.returncode != 0:
        return f"the kernel refused bwrap: {done.stderr.decode(errors='replace').strip()}"
    return None


def check() -> bool:
    """True if code must be sandboxed, False if MILLRACE_SANDBOX=off; raises if impossible."""
    if disabled():
        return False
    why = _probe()
    if why is not None:
        raise SandboxUnavailable(
            f"refusing to run user code without a sandbox: {why}; install bubblewrap "
            "(make system-deps) or set MILLRACE_SANDBOX=off to run unsandboxed"
        )
    return True


def sandbox_env(env: dict[str, str], home: str) -> dict[str, str]:
    """The only variables the sandboxed code sees."""
    keep = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "HOME": home,
            "LANG": os.environ.get("LANG", "C.UTF-8")}
    for key, value in os.environ.items():
        if key.startswith("WM_") or key == "BASE_INTERNAL_URL":
            keep[key] = value
    keep.update(env)
    return keep


def _ro_paths(extra: list[str]) -> list[str]:
    paths = [p for p in _SYSTEM if os.path.exists(p)]
    prefixes = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    for p in [*prefixes, *extra]:
        if p and os.path.exists(p):
            paths.append(os.path.realpath(p))
            if os.path.realpath(p) != os.path.abspath(p):
                paths.append(os.path.abspath(p))
    seen, out = set(), []
    for p in paths:
        if p not in seen and not any(p.startswith(s + "/") for s in _SYSTEM if s in seen):
            seen.add(p)
            out.append(p)
    return out


def wrap(
    argv: list[str], *, rw: list[str], env: dict[str, str], home: str,
    ro: list[str] = (), network: bool | None = None, chdir: str | None = None,
) -> list[str]:
    """The bwrap command line running `argv` sandboxed (env given via --setenv)."""
    if network is None:
        network = not network_off()
    cmd = [shutil.which("bwrap") or "bwrap", "--unshare-all"]
    if network:
        cmd.append("--share-net")
    cmd += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    for p in _ro_paths(list(ro)):
        cmd += ["--ro-bind", p, p]
    cmd += ["--size", str(TMP_SIZE), "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"]
    for p in rw:
        cmd += ["--bind", p, p]
    cmd += ["--clearenv"]
    for key, value in sandbox_env(env, home).items():
        cmd += ["--setenv", key, value]
    cmd += ["--chdir", chdir or home, "--", *argv]
    return cmd


def limits_preexec(nproc: int | None = None, memory_mb: int | None = None):
    """A preexec_fn setting RLIMIT_NPROC (per uid, so generous) and RLIMIT_AS."""
    import resource

    def apply() -> None:
        n = nproc or int(os.environ.get("MILLRACE_SCRIPT_NPROC") or DEFAULT_NPROC)
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (n, n))
        except (ValueError, OSError):
            pass
        if memory_mb:
            b = memory_mb << 20
            try:
                resource.setrlimit(resource.RLIMIT_AS, (b, b))
            except (ValueError, OSError):
                pass
    return apply
