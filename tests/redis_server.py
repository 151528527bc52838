"""A throwaway Redis server for tests: `redis-server` on 127.0.0.1, nothing kept on disk.

    with running_redis(tmp_path) as url:   # redis://127.0.0.1:PORT/0
        ...

It listens on a free port, saves nothing (no RDB, no AOF) and is stopped on exit.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


class RedisUnavailable(RuntimeError):
    """No redis-server on this machine, or it would not start."""


def find_redis_server() -> str:
    """The redis-server binary on PATH.

    Raises:
        RedisUnavailable: there is none.
    """
    found = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
    if found is None:
        raise RedisUnavailable("redis-server not found: install it (Debian: apt-get install redis-server, "
                               "or `make setup`)")
    return found


@contextlib.contextmanager
def running_redis(workdir: Path) -> Iterator[str]:
    """Start redis-server on a free port of 127.0.0.1; yield its URL; stop it on exit."""
    port = _free_port()
    log_path = workdir / "redis.log"
    command = [find_redis_server(), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
               "--appendonly", "no", "--dir", str(workdir), "--logfile", str(log_path)]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_ready(process, port, log_path)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


def _wait_ready(process: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
            raise RedisUnavailable(f"redis-server exited with {process.returncode}:\n{log}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return
        time.sleep(0.05)
    raise RedisUnavailable(f"redis-server did not answer on port {port} within {START_TIMEOUT:.0f} s")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
