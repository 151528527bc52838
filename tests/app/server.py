"""The web app as tests see it: a frontend built once, a backend per session.

The frontend bundle has the backend's URL baked in, so it is built for one port and
served on that port. It is rebuilt only when what goes into it changes (the key is a
hash of app/, components/, assets/, rxconfig.py, reflex.lock/ and the port). It lives in
its own web directory (`.web-test/`), apart from `make run`'s `.web/`; a bundle for
another port than the first (a second app instance beside the session's) lives in
`.web-test-PORT/`, so the two never overwrite each other.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx

ROOT = Path(__file__).resolve().parents[2]
WEB_DIR = ROOT / ".web-test"
BUN_BIN = ROOT / ".tools" / "node_modules" / ".bin"
BUILD_INPUTS = ("app", "components", "assets", "rxconfig.py", "reflex.lock")
# MILLRACE_TEST_PORT_BASE moves the range, so two checkouts can test side by side.
_BASE = int(os.environ.get("MILLRACE_TEST_PORT_BASE") or 8731)
PORTS = tuple(range(_BASE, _BASE + 6))
"""Tried in order; a fixed list so that the built bundle is usually reusable."""
TOKEN = "millrace-test-token"
ADMIN_PASSWORD = "millrace-test-password"
"""The password of the first-start user `admin`."""
BUILD_TIMEOUT = 600.0
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


@dataclass
class Server:
    """A running app: where it answers, its admin token, its database, its log file."""

    url: str
    token: str
    db_url: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's output (for failure messages)."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """The first port of PORTS nothing listens on (granian's SO_REUSEPORT would share it)."""
    for port in PORTS:
        if _is_free(port):
            return port
    raise RuntimeError(f"no free port among {PORTS}: stop the servers listening there")


def _is_free(port: int) -> bool:
    # SO_REUSEADDR lets the bind pass over connections in TIME_WAIT left by the last
    # session; on Linux it still fails while any socket listens there. The connect
    # catches a listener on another address.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("localhost", port)) != 0


def build_key(port: int) -> str:
    """A hash of every file that goes into the frontend bundle, and the port."""
    digest = hashlib.sha256(f"port={port}\n".encode())
    for name in BUILD_INPUTS:
        base = ROOT / name
        files = sorted(base.rglob("*")) if base.is_dir() else [base]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def web_dir(port: int) -> Path:
    """The web directory holding the bundle built for `port`."""
    return WEB_DIR if port == PORTS[0] else ROOT / f".web-test-{port}"


def _reflex_env(port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PATH=f"{BUN_BIN}{os.pathsep}{env.get('PATH', '')}",
        REFLEX_USE_SYSTEM_BUN="1",
        REFLEX_USE_NPM="0",
        REFLEX_WEB_WORKDIR=str(web_dir(port)),
        REFLEX_API_URL=f"http://localhost:{port}",
    )
    return env


def ensure_frontend(port: int) -> float:
    """Build the frontend for `port` unless an identical build exists; returns seconds spent."""
    if not (BUN_BIN / "bun").exists():
        raise RuntimeError("bun is missing: run `make setup` (npm install --prefix .tools bun@1.4.4)")
    key = build_key(port)
    stamp = web_dir(port) / "millrace-test-build.key"
    web_dir(port).mkdir(exist_ok=True)
    with open(WEB_DIR.parent / ".web-test.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel sessions build one after another
        if stamp.exists() and stamp.read_text() == key:
            return 0.0
        started = time.monotonic()
        stamp.unlink(missing_ok=True)
        command = [sys.executable, "-m", "reflex", "export", "--frontend-only", "--no-zip", "--env", "prod"]
        done = subprocess.run(command, cwd=ROOT, env=_reflex_env(port), capture_output=True,
                              timeout=BUILD_TIMEOUT, check=False)
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace")
            raise RuntimeError(f"frontend build failed ({' '.join(command)}):\n{output[-4000:]}")
        # The build may rewrite reflex.lock/ (bun's lockfile): key what it left.
        stamp.write_text(build_key(port))
        return time.monotonic() - started


def start(port: int, workdir: Path, *, db_url: str | None = None, env: dict[str, str] | None = None,
          web_port: int | None = None) -> Server:
    """Start the backend (which serves the built frontend) on a fresh SQLite database.

    Args:
        port: where it listens (on 127.0.0.1).
        workdir: its folder (log file, SQLite database).
        db_url: its database instead of a fresh SQLite one.
        env: more environment variables (e.g. REDIS_URL, MILLRACE_WORKERS).
        web_port: serve the bundle built for this port instead of `port`'s (an instance
            only called over REST needs no bundle of its own).
    """
    if not _is_free(port):
        raise RuntimeError(f"port {port} was taken while the frontend was built; run the tests again")
    db_url = db_url or f"sqlite:///{workdir / 'millrace.db'}"
    url = f"http://localhost:{port}"
    extra, env = env or {}, _reflex_env(port)
    env["REFLEX_WEB_WORKDIR"] = str(web_dir(web_port or port))
    env.update({
        "REFLEX_ENV_MODE": "prod",
        "__REFLEX_SKIP_COMPILE": "true",
        "__REFLEX_MOUNT_FRONTEND_COMPILED_APP": "true",
        "DATABASE_URL": db_url,
        "MILLRACE_TOKEN": TOKEN,
        "MILLRACE_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "BASE_INTERNAL_URL": f"http://127.0.0.1:{port}",
        "MILLRACE_PUBLIC_URL": url,
        **extra,
    })
    command = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "app.app:app"]
    log_path = workdir / "server.log"
    with open(log_path, "ab") as log:  # a restarted server adds to its log
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = Server(url, TOKEN, db_url, log_path, process)
    try:
        _wait_ready(server)
    except BaseException:
        stop(server)
        raise
    return server


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited with {server.process.returncode}:\n{server.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/api/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the server did not get ready in {START_TIMEOUT:.0f} s:\n{server.log_tail()}")


def stop(server: Server) -> None:
    """SIGTERM the server's process group, SIGKILL it when it does not go in time."""
    if server.process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def running_app(workdir: Path) -> Iterator[Server]:
    """Build (if needed) and start the app; stop it on exit."""
    port = free_port()
    ensure_frontend(port)
    server = start(port, workdir)
    try:
        yield server
    finally:
        stop(server)
