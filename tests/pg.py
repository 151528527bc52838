"""A throwaway PostgreSQL server for tests.

Test modules import the fixtures they use::

    from tests.pg import pg_database, pg_url  # noqa: F401  (pytest fixtures)

`pg_url` (session) starts one cluster per test process from the PostgreSQL binaries
on PATH or under /usr/lib/postgresql/*/bin, listening on 127.0.0.1 only, with
durability switched off for speed, and yields a URL with trust auth. `pg_database`
(module) gives each test module a fresh empty database. Without the binaries the
fixtures fail; set MILLRACE_SKIP_PG=1 to skip instead. PostgreSQL refuses to run as
root, so as root the server runs as the `postgres` system user.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shlex
import shutil
import socket
import stat
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

SKIP_ENV = "MILLRACE_SKIP_PG"
SERVER_USER = "postgres"
INSTALL_GLOB = "/usr/lib/postgresql/*/bin"
_TOOLS = ("initdb", "pg_ctl", "postgres")
_START_ATTEMPTS = 3
_SPEED_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=32MB"
)
# For a server that is stopped with `-m immediate` in a test: a commit must be in the
# WAL before it is acknowledged (the OS keeps what was written; fsync stays off).
DURABLE_OPTIONS = "-c fsync=off -c synchronous_commit=on -c full_page_writes=off -c shared_buffers=32MB"


class PostgresUnavailable(RuntimeError):
    """The test PostgreSQL server cannot be set up on this machine."""


def find_bin_dir() -> Path:
    """The folder holding initdb, pg_ctl and postgres (PATH first, then the newest install).

    Raises:
        PostgresUnavailable: No such folder.
    """
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    installed = glob.glob(INSTALL_GLOB)
    candidates += [Path(p) for p in sorted(installed, key=_major_version, reverse=True)]
    for folder in candidates:
        if all((folder / tool).exists() for tool in _TOOLS):
            return folder
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH nor under "
        "/usr/lib/postgresql/*/bin. Install them (Debian: apt-get install postgresql), "
        f"or set {SKIP_ENV}=1 to skip the PostgreSQL tests."
    )


def _major_version(path: str) -> int:
    name = Path(path).parent.name
    return int(name) if name.isdigit() else 0


class Cluster:
    """One PostgreSQL server in a temporary folder, run as a non-root user."""

    def __init__(self, bin_dir: Path, *, options: str = _SPEED_OPTIONS):
        self.bin_dir = bin_dir
        self.options = options
        self.as_user = SERVER_USER if os.geteuid() == 0 else None
        self.root = _make_root(self.as_user)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0

    def url(self, database: str = "postgres") -> str:
        """A URL for `database` on this server (trust auth, user postgres)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """initdb, then start the server on a free port (retrying if the port is taken)."""
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-N",
                  "-E", "UTF8", "--locale=C")
        for attempt in range(_START_ATTEMPTS):
            self.port = _free_port()
            try:
                self._pg_ctl_start()
                return
            except PostgresUnavailable:
                if attempt == _START_ATTEMPTS - 1:
                    raise

    def _pg_ctl_start(self) -> None:
        sockets = self.root / "sock"
        sockets.mkdir(exist_ok=True)
        if self.as_user:
            shutil.chown(sockets, self.as_user, self.as_user)
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {shlex.quote(str(sockets))} "
            + self.options
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30",
                  "-o", options, "start")

    def restart(self) -> None:
        """Stop the server (closing every connection), then start it again on the same port."""
        self.stop_server()
        self.start_server()

    def stop_server(self, mode: str = "fast") -> None:
        """Stop the server and keep its data (`mode`: pg_ctl's smart, fast or immediate)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def start_server(self) -> None:
        """Start a stopped server again, on the same port and data folder."""
        self._pg_ctl_start()

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        if self.data.exists() and (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop",
                      check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing whatever connections remain to it."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        command = [str(self.bin_dir / tool), *args]
        if self.as_user:
            command = ["runuser", "-u", self.as_user, "--", *command]
        done = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=self.root
        )
        if check and done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise PostgresUnavailable(
                f"{tool} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}{log}"
            )


def _make_root(user: str | None) -> Path:
    base = Path(tempfile.gettempdir())
    if user and not _traversable(base):
        base = Path("/tmp")
    if user:
        try:
            pwd.getpwnam(user)
        except KeyError:
            raise PostgresUnavailable(
                f"running as root, and PostgreSQL refuses root: a system user {user!r} is "
                f"needed to run the test server (Debian's postgresql package creates it)."
            ) from None
        if not _traversable(base):
            raise PostgresUnavailable(f"{base} is not traversable by user {user!r}")
    root = Path(tempfile.mkdtemp(prefix="millrace-pg-", dir=base))
    if user:
        shutil.chown(root, user, user)
    return root


def _traversable(folder: Path) -> bool:
    # Another user needs execute permission on every ancestor to reach the folder.
    return all(p.stat().st_mode & stat.S_IXOTH for p in [folder, *folder.parents])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_cluster: Cluster | None = None
_users = 0


def shared_cluster() -> Cluster:
    """The one cluster of this test process, started on first use.

    Raises:
        PostgresUnavailable: It cannot be started.
    """
    global _cluster
    if _cluster is None:
        cluster = Cluster(find_bin_dir())
        atexit.register(cluster.stop)
        try:
            cluster.start()
        except BaseException:
            cluster.stop()
            raise
        _cluster = cluster
    return _cluster


def _stop_shared_cluster() -> None:
    global _cluster
    if _cluster is not None:
        _cluster.stop()
        _cluster = None


@contextlib.contextmanager
def own_cluster(options: str = DURABLE_OPTIONS) -> Iterator[Cluster]:
    """A server of the caller's own (not the shared one), for tests that stop and start it.

    Skips when MILLRACE_SKIP_PG=1 and fails the test when PostgreSQL is missing, as the
    fixtures do. Commits are durable by default, so a `-m immediate` stop keeps them.
    """
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"PostgreSQL tests skipped ({SKIP_ENV}=1)")
    try:
        cluster = Cluster(find_bin_dir(), options=options)
        try:
            cluster.start()
        except BaseException:
            cluster.stop()
            raise
    except PostgresUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of the session's PostgreSQL server (its `postgres` database)."""
    global _users
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"PostgreSQL tests skipped ({SKIP_ENV}=1)")
    try:
        cluster = shared_cluster()
    except PostgresUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    # Importing this fixture into several modules makes one fixture per module; the
    # server is shared between them and stops when the last one is torn down.
    _users += 1
    yield cluster.url()
    _users -= 1
    if _users == 0:
        _stop_shared_cluster()


def fresh_database(prefix: str = "millrace") -> tuple[str, str]:
    """Create an empty database on the shared cluster; returns (name, URL)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    return name, shared_cluster().create_database(name)


@pytest.fixture(scope="module")
def pg_database(pg_url: str) -> Iterator[str]:
    """URL of a fresh empty database for the requesting test module."""
    name, url = fresh_database()
    yield url
    if _cluster is not None:
        _cluster.drop_database(name)
