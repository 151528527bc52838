"""How a job's processes are made: each spare is its namespace's init and the job process,
and a zygote whose preloaded packages started threads (which then cannot clone into a
user namespace) still gives every job its own namespaces, with the same ends.

Real sandboxes, real processes: the tests look at them from the host and from the job.
"""

from __future__ import annotations

import asyncio
import dataclasses
import textwrap
import time
from pathlib import Path

import pytest

from engine.runners import RunnerPool, ScriptJob, sandbox
from engine.runners.job import script_env
from engine.runners.process import Scratch
from engine.runners.python import PythonRunner
from engine.runners.sandbox import SandboxPolicy
from engine.runners.zygote import DEFAULT_SPARES, ZygoteJobs
from engine.runners.zygotes import DEFAULT, Flavour
from tests.engine.runnerkit import NAME_ITSELF, none_left, processes_mentioning

PACKAGES_INSIDE = f"{sandbox.DEPS_MOUNT}/test-threads"
THREADED_PACKAGE = '''
import threading, time

threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
THREADS_AT_IMPORT = threading.active_count()
'''


def python_tree(folder: str) -> dict[int, int]:
    """pid -> parent pid of a pool's Python processes (its zygotes' and their children),
    found by the pool's folder in their command line."""
    found = {}
    for pid in processes_mentioning(folder):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        name, rest = stat.rsplit(")", 1)
        if "bwrap" not in name:
            found[pid] = int(rest.split()[1])
    return found


def spare_depths(folder: str, zygote_name: str, expected: int) -> list[int]:
    """For each idle spare of the zygote named `zygote_name`: how many processes it is (a
    chain below the zygote), once all spares are `expected` deep (or after 5 s)."""
    deadline = time.monotonic() + 5
    while True:
        tree = python_tree(folder)
        zygote = next(pid for pid, parent in tree.items()
                      if parent not in tree and zygote_name in Path(f"/proc/{pid}/cmdline").read_text())
        depths = []
        for first in (pid for pid, parent in tree.items() if parent == zygote):
            depth, below = 1, [first]
            while below := [pid for pid, parent in tree.items() if parent in below]:
                depth += 1
            depths.append(depth)
        if depths == [expected] * DEFAULT_SPARES or time.monotonic() > deadline:
            return depths
        time.sleep(0.02)


def test_an_idle_spare_is_two_processes_its_init_and_the_job_process_waiting():
    pool = RunnerPool()
    loop = asyncio.new_event_loop()
    try:
        outcome = loop.run_until_complete(pool.run(ScriptJob("python3", "def main():\n    return 1\n", {}, "j")))
        assert outcome.ok, outcome.error
        assert spare_depths(pool.folder, f"{DEFAULT}.sock", 2) == [2] * DEFAULT_SPARES
    finally:
        loop.run_until_complete(pool.close())
        loop.close()


@pytest.fixture
def threaded_zygote(tmp_path: Path):
    """Runs Python jobs in a lock's zygote that preloads a package starting a thread."""
    packages = tmp_path / "packages"
    packages.mkdir()
    (packages / "starts_a_thread.py").write_text(THREADED_PACKAGE)
    policy = dataclasses.replace(SandboxPolicy.from_env(), shared=(), ro_mounts=((str(packages), PACKAGES_INSIDE),))
    scratch = Scratch()
    jobs = ZygoteJobs(scratch, policy)
    runner = PythonRunner(jobs, 1 << 20)
    flavour = Flavour("deps-test-threads", (PACKAGES_INSIDE,), ("starts_a_thread",))
    loop = asyncio.new_event_loop()

    def run(content: str):
        job = ScriptJob("python3", textwrap.dedent(content), {}, "threaded")
        env = {**sandbox.clean_env(), **script_env(job)}
        return loop.run_until_complete(runner.run(job, None, env, flavour))

    run.folder = str(scratch.root)
    yield run
    loop.run_until_complete(jobs.close())
    loop.close()
    scratch.close()


def test_a_zygote_with_threads_gives_each_job_its_own_namespaces(threaded_zygote):
    for _ in range(3):  # spares made after the first job too
        outcome = threaded_zygote(
            """
            import os, starts_a_thread

            def main():
                return [starts_a_thread.THREADS_AT_IMPORT, os.getpid(), os.getppid(),
                        sorted(int(p) for p in os.listdir("/proc") if p.isdigit())]
            """
        )
        assert outcome.ok, outcome.error
        threads, pid, parent, visible = outcome.result
        assert threads >= 2, "the zygote had a thread of the package's when it made the spare"
        assert (pid, parent) == (2, 1)
        assert visible == [1, 2]
    # A keeper forked by the zygote made each spare's init, the zygote could not.
    assert spare_depths(threaded_zygote.folder, "deps-test-threads", 3) == [3] * DEFAULT_SPARES


def test_a_zygote_with_threads_reports_how_a_job_ended_and_ends_what_it_left(threaded_zygote):
    killed = threaded_zygote("import os, signal\n\ndef main():\n    os.kill(os.getpid(), signal.SIGSEGV)\n")
    assert killed.error["message"].startswith("the script process was killed by SIGSEGV"), killed.error
    exited = threaded_zygote("import os\n\ndef main():\n    os._exit(7)\n")
    assert exited.error["message"] == "the script process exited with code 7 before main returned"
    left = threaded_zygote(
        f"""
        import os, time

        def main():
            if os.fork() == 0:
                os.setsid()
                {NAME_ITSELF.format(name='mr-threaded-left')}
                time.sleep(60)
            time.sleep(0.2)
            return "left one"
        """
    )
    assert left.result == "left one"
    assert none_left("mr-threaded-left")


def test_every_job_draws_its_own_random_numbers():
    pool = RunnerPool()
    loop = asyncio.new_event_loop()
    script = "import random\n\ndef main():\n    return random.random()\n"
    try:
        drawn = [loop.run_until_complete(pool.run(ScriptJob("python3", script, {}, f"j{n}"))) for n in range(6)]
        assert all(outcome.ok for outcome in drawn), [outcome.error for outcome in drawn]
        numbers = [outcome.result for outcome in drawn]
        assert len(set(numbers)) == len(numbers), "each job's fork reseeds the generator the zygote imported"
    finally:
        loop.run_until_complete(pool.close())
        loop.close()
