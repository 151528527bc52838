"""User code runs in a sandbox: it sees nothing of the app, of other jobs, and stays within its limits.

Every test runs real scripts in real sandboxes (bubblewrap, namespaces, cgroups where the
machine has them) and checks from the outside what they could and could not do.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import sqlite3
import threading
from pathlib import Path

import pytest

from engine.runners import RunnerPool, ScriptJob
from engine.runners import sandbox
from engine.runners.cgroups import Cgroups
from engine.runners.sandbox import SandboxPolicy
from tests.engine.runnerkit import NAME_ITSELF, Runner, lines, none_left

ROOT = Path(__file__).resolve().parents[2]
APP_SECRETS = {"MILLRACE_TOKEN": "tok-4b1d-secret", "MILLRACE_ADMIN_PASSWORD": "pw-77c1-secret",
               "MILLRACE_SECRET_KEY": "key-90aa-secret", "DATABASE_URL": "sqlite:////srv/db-5e2f-secret"}
needs_cgroups = pytest.mark.skipif(Cgroups.detect() is None, reason="this machine gives no cgroups to the engine")


def policy(**changes) -> SandboxPolicy:
    """The sandbox as configured, sharing no folder (the tests' own shared folder included)."""
    return dataclasses.replace(SandboxPolicy.from_env(), **{"shared": (), **changes})


@pytest.fixture(scope="module")
def runner():
    runner = Runner(RunnerPool(policy=policy()), "python3", "sandboxed")
    yield runner
    runner.close()


@pytest.fixture
def app_files(tmp_path: Path) -> list[Path]:
    """What an app keeps on disk: its database, its secret key, a data folder."""
    data = tmp_path / "data"
    data.mkdir()
    with sqlite3.connect(data / "millrace.db") as db:
        db.execute("create table secrets (value text)")
        db.execute("insert into secrets values ('db-row-secret')")
    (data / "secret.key").write_text("key-file-secret")
    (data / "secret.key").chmod(0o600)
    return [data / "millrace.db", data / "secret.key", ROOT / "engine" / "__init__.py", ROOT / "requirements.txt"]


def test_scripts_see_only_their_own_environment(runner, monkeypatch):
    for name, value in APP_SECRETS.items():
        monkeypatch.setenv(name, value)
    python, _ = runner.run(
        """
        import os

        def main():
            environs = []
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    try:
                        environs.append(open(f"/proc/{pid}/environ", "rb").read().decode(errors="replace"))
                    except OSError:
                        pass
            return {"env": dict(os.environ), "proc": environs}
        """,
        env={"GIVEN": "by the step"},
    )
    bash, _ = runner.run("env | sort | tr '\\n' ' '\n", language="bash")
    assert python.ok and bash.ok, (python.error, bash.error)
    seen = repr(python.result) + bash.result
    for secret in APP_SECRETS.values():
        assert secret not in seen
    assert set(python.result["env"]) == {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONDONTWRITEBYTECODE",
                                         "PYTHONUNBUFFERED", "MILLRACE_JOB_ID", "WM_JOB_ID", "GIVEN"}
    assert python.result["env"]["GIVEN"] == "by the step"


def test_scripts_cannot_read_the_apps_files(runner, app_files):
    script = """
        import os

        def main(paths):
            readable = []
            for path in paths:
                try:
                    readable.append([path, open(path, "rb").read(64).decode(errors="replace")])
                except OSError:
                    pass
            return {"readable": readable, "root": sorted(os.listdir("/"))}
        """
    paths = [str(path) for path in app_files] + [str(ROOT), "/etc/shadow", "/root"]
    outcome, _ = runner.run(script, {"paths": paths})
    assert outcome.ok, outcome.error
    assert outcome.result["readable"] == []
    assert "data" not in outcome.result["root"] and "srv" not in outcome.result["root"]
    bash, _ = runner.run(f"cat {' '.join(map(str, app_files))} 2>&1 | head -c 300\n", language="bash")
    assert "secret" not in bash.result


def test_scripts_cannot_see_or_signal_the_app_or_the_zygote(runner):
    me = os.getpid()
    outcome, _ = runner.run(
        """
        import os, signal

        def main(app):
            seen = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
            try:
                os.kill(app, signal.SIGTERM)
                signalled = True
            except ProcessLookupError:
                signalled = False
            for pid in [*seen, app]:
                if pid == os.getpid():
                    continue
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            return {"seen": seen, "signalled": signalled, "me": os.getpid()}
        """,
        {"app": me},
    )
    assert outcome.ok, outcome.error
    assert outcome.result["signalled"] is False
    assert outcome.result["seen"] == [1, outcome.result["me"]], "only its namespace's init and itself"
    after, _ = runner.run("def main():\n    return 'the zygote serves on'\n")
    assert after.result == "the zygote serves on"


def test_jobs_cannot_see_each_others_folders(runner, tmp_path):
    mine, theirs = tmp_path / "looking", tmp_path / "other-run"
    mine.mkdir()
    theirs.mkdir()
    (theirs / "shared.txt").write_text("run b's data")
    holder = """
        import os, time

        def main():
            open("/tmp/scratch-a", "w").write("a's tmp")
            open(os.path.join(os.environ["HOME"], "home-a"), "w").write("a's home")
            open("job-file-a", "w").write("a's folder")
            time.sleep(1.5)
            return os.getcwd()
        """
    looker = """
        import glob, os, time

        def main(theirs):
            time.sleep(0.5)
            found = glob.glob("/tmp/*") + glob.glob("/run/millrace/work/**", recursive=True)
            found += glob.glob(theirs + "/*") + glob.glob("/proc/*/cwd/*")
            return sorted(found)
        """

    async def both() -> list:
        pool = runner.pool
        return await asyncio.gather(
            pool.run(ScriptJob("python3", _dedent(holder), {}, "a", cwd=None)),
            pool.run(ScriptJob("python3", _dedent(looker), {"theirs": str(theirs)}, "b", cwd=str(mine))))

    first, second = runner.loop.run_until_complete(both())
    assert first.ok and second.ok, (first.error, second.error)
    found = second.result
    others = ("scratch-a", "home-a", "job-file-a", "shared.txt", "other-run")
    assert not [path for path in found if any(name in path for name in others)], found
    assert [path for path in found if path.startswith("/run/millrace/work/job-")], "it lists its own folder"


def test_a_daemon_started_with_setsid_and_double_fork_ends_with_its_step(runner):
    outcome, _ = runner.run(
        f"""
        import os, time

        def main():
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    {NAME_ITSELF.format(name='mr-daemon')}
                    time.sleep(60)
                os._exit(0)
            time.sleep(0.2)
            return "left a daemon"
        """
    )
    assert outcome.result == "left a daemon"
    assert none_left("mr-daemon")


@needs_cgroups
def test_a_fork_bomb_meets_the_process_cap_and_nothing_of_it_survives():
    bomb = Runner(RunnerPool(policy=policy(max_processes=40)))
    try:
        outcome, _ = bomb.run(
            f"""
            import os, time

            def main():
                {NAME_ITSELF.format(name='mr-bomb')}
                made = 0
                while True:
                    try:
                        pid = os.fork()
                    except OSError as exc:
                        return {{"made": made, "error": exc.strerror}}
                    if pid == 0:
                        time.sleep(60)
                        os._exit(0)
                    made += 1
            """,
            timeout=20,
        )
        assert outcome.ok, outcome.error
        assert outcome.result["made"] < 40
        assert "Resource temporarily unavailable" in outcome.result["error"]
        assert none_left("mr-bomb")
        after, _ = bomb.run("def main():\n    return 'next job runs'\n")
        assert after.result == "next job runs"
    finally:
        bomb.close()


@needs_cgroups
def test_the_memory_cap_holds_for_all_processes_of_a_job_together(runner):
    hog = "import time; b = bytearray(90 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(5)"
    outcome, _ = runner.run(
        f"""
        for n in 1 2 3; do python3 -c "{hog}" & done
        wait
        echo "all three kept their memory"
        """,
        language="bash",
        memory_limit_mb=200,
        timeout=30,
    )
    assert not outcome.ok
    assert outcome.error["name"] == "MemoryError"
    assert "processes together may use at most 200 MiB" in outcome.error["message"]
    single, _ = runner.run(f'python3 -c "{hog.replace("time.sleep(5)", "print(len(b))")}"\n',
                           language="bash", memory_limit_mb=200)
    assert single.ok and single.result == 90 * 2**20, "one process alone fits"


def test_the_disk_cap_holds_for_the_job_folder_and_tmp_together():
    small = Runner(RunnerPool(policy=policy(disk_mb=24)), "bash")
    try:
        outcome, logs = small.run(
            """
            head -c 10M /dev/zero > /tmp/first
            head -c 10M /dev/zero > ./second
            head -c 10M /dev/zero > /dev/shm/third
            total=0
            for file in /tmp/first ./second /dev/shm/third; do total=$((total + $(stat -c %s $file))); done
            echo $((total / 1048576))
            """
        )
        fits, _ = small.run("head -c 20M /dev/zero > /tmp/one && stat -c %s /tmp/one\n")
    finally:
        small.close()
    assert outcome.ok, outcome.error
    assert "No space left on device" in "\n".join(lines(logs, "stderr"))
    assert outcome.result <= 24
    assert fits.result == 20 * 2**20


class _Greeter(threading.Thread):
    """A TCP server on loopback that says hello to whoever connects."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]

    def run(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"hello")


def test_a_worker_group_without_network_gives_its_scripts_none():
    greeter = _Greeter()
    greeter.start()
    script = """
        import socket

        def main(port):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                    return conn.recv(5).decode()
            except OSError as exc:
                return f"refused: {exc}"
        """
    online, offline = Runner(RunnerPool(policy=policy(network=True))), Runner(RunnerPool(policy=policy(network=False)))
    try:
        with_network, _ = online.run(script, {"port": greeter.port})
        without, _ = offline.run(script, {"port": greeter.port})
    finally:
        online.close()
        offline.close()
        greeter.server.close()
    assert with_network.result == "hello"
    assert without.result.startswith("refused:"), without.result


def test_no_user_code_runs_where_no_sandbox_can_be_made(monkeypatch, tmp_path):
    marker = tmp_path / "ran"
    script = f"def main():\n    open({str(marker)!r}, 'w').write('ran')\n    return 'ran'\n"
    monkeypatch.setattr(sandbox, "find_bwrap", lambda: None)
    sandbox.probe.cache_clear()
    refused = Runner(RunnerPool(policy=policy(enabled=True)))
    try:
        outcome, _ = refused.run(script, cwd=str(tmp_path))
    finally:
        refused.close()
        sandbox.probe.cache_clear()
    assert not outcome.ok
    assert outcome.error["name"] == "SandboxUnavailable"
    assert "bubblewrap" in outcome.error["message"] and "MILLRACE_SANDBOX=off" in outcome.error["message"]
    assert not marker.exists()


def test_with_the_sandbox_turned_off_scripts_run_with_a_clean_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MILLRACE_TOKEN", APP_SECRETS["MILLRACE_TOKEN"])
    unboxed = Runner(RunnerPool(policy=policy(enabled=False)))
    try:
        outcome, _ = unboxed.run("import os\ndef main():\n    return dict(os.environ)\n", cwd=str(tmp_path))
    finally:
        unboxed.close()
    assert outcome.ok, outcome.error
    assert "MILLRACE_TOKEN" not in outcome.result
    assert unboxed.pool.describe().startswith("scripts run WITHOUT a sandbox")


def test_a_step_without_a_timeout_is_stopped_at_the_default_wall_time(runner, monkeypatch):
    monkeypatch.setenv("MILLRACE_SCRIPT_TIMEOUT", "0.5")
    outcome, _ = runner.run("import time\ndef main():\n    time.sleep(30)\n")
    assert not outcome.ok
    assert outcome.error["name"] == "TimeoutError"
    assert outcome.error["message"].startswith("script timed out after 0.5 s (MILLRACE_SCRIPT_TIMEOUT")
    assert outcome.duration < 5


def test_a_shared_folder_is_seen_by_every_job_and_nothing_beside_it(tmp_path):
    exchange, beside = tmp_path / "exchange", tmp_path / "beside"
    exchange.mkdir()
    beside.mkdir()
    (exchange / "in.txt").write_text("from the host")
    (beside / "private.txt").write_text("not shared")
    sharing = Runner(RunnerPool(policy=policy(shared=(str(exchange),))))
    try:
        outcome, _ = sharing.run(
            """
            import os

            def main(exchange, beside):
                open(os.path.join(exchange, "out.txt"), "w").write("from the job")
                return [open(os.path.join(exchange, "in.txt")).read(), os.path.exists(beside)]
            """,
            {"exchange": str(exchange), "beside": str(beside)},
        )
    finally:
        sharing.close()
    assert outcome.result == ["from the host", False]
    assert (exchange / "out.txt").read_text() == "from the job"


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text)
