"""The JS helper processes: killed at their deadline, clean environment, replaced when lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.expressions import sandbox
from engine.expressions.sandbox import JsSyntax, JsThrew, JsTimeout, Limits
from engine.expressions.sandbox_pool import SandboxPool
from engine.expressions.sandbox_process import JsHelperLost, SandboxProcess

LIMITS = Limits(time=0.1, memory=32 * 2**20)
NO_ARGS = "[null, {}]"
# Functions take the evaluator's parameters; `results` must be an object.
DOUBLE = "(function (flow_input, results) {\nreturn flow_input.map(x => x * 2);\n})"
REGEX = '(function (flow_input, results) {\nreturn /(a+)+$/.test("a".repeat(40) + "b");\n})'


@pytest.fixture
def helper() -> Iterator[SandboxProcess]:
    process = SandboxProcess(LIMITS)
    yield process
    process.close()


def test_a_helper_compiles_calls_and_reports_errors(helper: SandboxProcess) -> None:
    assert helper.call(DOUBLE, "[[1, 2], {}]") == "[2,4]"
    with pytest.raises(JsThrew, match="TypeError"):
        helper.call(DOUBLE, "[null, {}]")
    with pytest.raises(JsSyntax):
        helper.compile("(function () {\nreturn 1 +;\n})")
    assert helper.syntax_error(DOUBLE) is None
    assert helper.syntax_error("(function () {\nreturn 1 +;\n})") is not None
    assert helper.alive


def test_a_helper_past_its_deadline_is_killed(helper: SandboxProcess) -> None:
    started = time.monotonic()
    with pytest.raises(JsTimeout):
        helper.call(REGEX, NO_ARGS)
    assert time.monotonic() - started < LIMITS.deadline + 0.5
    assert not helper.alive
    with pytest.raises(JsHelperLost, match="has stopped"):
        helper.call(DOUBLE, "[[1], {}]")


def helper_inside(group: int) -> int:
    """The pid of the Python helper in a helper's process group (under bubblewrap)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
                same_group = os.getpgid(int(entry.name)) == group
            except (OSError, ProcessLookupError):
                continue
            if same_group and command[0].endswith(b"python") and b"-I" in command:
                return int(entry.name)
    raise AssertionError(f"no helper in process group {group}")


def test_a_helper_that_dies_says_how(helper: SandboxProcess) -> None:
    os.kill(helper_inside(helper.pid), signal.SIGKILL)
    with pytest.raises(JsHelperLost, match="stopped on signal 9"):
        helper.call(DOUBLE, "[[1], {}]")
    assert not helper.alive


def test_a_helper_sees_none_of_the_apps_environment_or_open_files(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MILLRACE_PROBE_SECRET", "s3cret")
    with open(tmp_path / "app.db", "w"):
        fresh = SandboxProcess(LIMITS)
    try:
        inside = helper_inside(fresh.pid)
        assert Path(f"/proc/{inside}/environ").read_bytes() in (b"", b"PWD=/\0")  # bubblewrap sets PWD
        assert sorted(os.listdir(f"/proc/{inside}/fd")) == ["0", "1", "2"]
        assert os.getsid(inside) != os.getsid(0)
    finally:
        fresh.close()


def test_a_helper_works_when_the_app_holds_many_descriptors() -> None:
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        helper = SandboxProcess(LIMITS)
        try:
            assert helper.call(DOUBLE, "[[5], {}]") == "[10]"
        finally:
            helper.close()
    finally:
        for fd in held:
            os.close(fd)


def test_a_helper_whose_parent_is_gone_ends_itself_on_cpu_time() -> None:
    """The kernel ends a helper stuck in native code when nobody is left to kill it."""
    command = [sys.executable, "-I", sandbox.__file__, "0.1", str(32 * 2**20)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={})
    try:
        assert json.loads(process.stdout.readline()) == ["ready"]
        process.stdin.write(json.dumps(["call", REGEX, NO_ARGS, False]).encode() + b"\n")
        process.stdin.flush()
        assert process.wait(timeout=30) == -signal.SIGXCPU
    finally:
        process.kill()
        process.wait()
        process.stdin.close()
        process.stdout.close()


def test_a_pool_replaces_a_lost_helper() -> None:
    pool = SandboxPool(LIMITS, size=1)
    try:
        with pool.borrow() as first:
            with pytest.raises(JsTimeout):
                first.call(REGEX, NO_ARGS)
        with pool.borrow() as second:
            assert second is not first and second.alive
            assert second.call(DOUBLE, "[[3], {}]") == "[6]"
    finally:
        pool.close()


class Interrupted(Exception):
    pass


def test_an_interrupted_request_never_hands_its_reply_to_the_next_caller() -> None:
    def interrupt(signum, frame):
        raise Interrupted

    slow = "(function (flow_input, results) {\nconst end = Date.now() + 50; while (Date.now() < end); return 'slow';\n})"
    pool = SandboxPool(LIMITS, size=1)
    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        with pytest.raises(Interrupted), pool.borrow() as first:
            signal.setitimer(signal.ITIMER_REAL, 0.01)
            first.call(slow, NO_ARGS)
        assert not first.alive
        with pool.borrow() as second:
            assert second.call(DOUBLE, "[[4], {}]") == "[8]"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        pool.close()


def test_a_full_pool_makes_callers_wait_for_a_helper() -> None:
    pool = SandboxPool(LIMITS, size=1)
    borrowed: list[int] = []

    def use() -> None:
        with pool.borrow() as helper:
            borrowed.append(helper.pid)
            time.sleep(0.1)

    try:
        threads = [threading.Thread(target=use) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        assert len(borrowed) == 3 and len(set(borrowed)) == 1
    finally:
        pool.close()


def test_closing_a_pool_stops_its_helpers() -> None:
    pool = SandboxPool(LIMITS, size=2)
    with pool.borrow() as helper:
        helper.call(DOUBLE, "[[1], {}]")
    pool.close()
    assert not helper.alive
    with pytest.raises(ProcessLookupError):
        os.kill(helper.pid, 0)


def test_a_pool_needs_room() -> None:
    with pytest.raises(ValueError, match="at least one"):
        SandboxPool(LIMITS, size=0)


def test_where_no_sandbox_can_be_made_a_helper_checks_syntax_but_runs_nothing(monkeypatch) -> None:
    from engine.runners import sandbox as scripts_sandbox

    monkeypatch.setattr(scripts_sandbox, "find_bwrap", lambda: None)
    scripts_sandbox.probe.cache_clear()
    try:
        unboxed = SandboxProcess(LIMITS)
        try:
            unboxed.compile(DOUBLE)
            with pytest.raises(JsSyntax):
                unboxed.compile("(function () {\nreturn 1 +;\n})")
            with pytest.raises(JsHelperLost, match="MILLRACE_SANDBOX=off"):
                unboxed.call(DOUBLE, "[[1], {}]")
        finally:
            unboxed.close()
    finally:
        scripts_sandbox.probe.cache_clear()
