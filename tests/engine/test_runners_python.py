"""Python 3 scripts run in children forked from a warm zygote: args, logs, results, failures."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from engine.runners import LogLine, RunnerPool, ScriptJob, ScriptOutcome
from tests.engine.runnerkit import NAME_ITSELF, Runner, lines, none_left, process_gone, processes_mentioning, started

RESULT_LIMIT = 200_000


@pytest.fixture(scope="module")
def runner():
    runner = Runner(RunnerPool(max_result_bytes=RESULT_LIMIT), "python3", "job-1")
    yield runner
    runner.close()


# --- calling main ---------------------------------------------------------------------


def test_main_gets_args_by_name_and_defaults_fill_the_rest(runner):
    outcome, _ = runner.run(
        """
        def main(name, count=2, *, sep="-"):
            return sep.join([name] * count)
        """,
        {"name": "ab", "sep": "+"},
    )
    assert outcome.ok, outcome.error
    assert outcome.result == "ab+ab"
    assert outcome.error is None
    assert outcome.duration > 0


def test_typed_main_gets_its_args_converted_to_datetime_date_and_bytes(runner):
    outcome, _ = runner.run(
        """
        from datetime import date, datetime
        from typing import Optional

        def main(when: datetime, day: date, blob: bytes, later: Optional[datetime] = None,
                 n: int = 0, text: str = ""):
            return [type(when).__name__, when.isoformat(), type(day).__name__, day.isoformat(),
                    blob.decode(), later.year, n, text]
        """,
        {"when": "2024-05-06T07:08:09+00:00", "day": "2024-05-06", "blob": "aGVsbG8=",
         "later": "2030-01-01T00:00:00Z", "n": 3, "text": "plain"},
    )
    assert outcome.ok, outcome.error
    assert outcome.result == ["datetime", "2024-05-06T07:08:09+00:00", "date", "2024-05-06",
                              "hello", 2030, 3, "plain"]


def test_async_main_is_awaited(runner):
    outcome, logs = runner.run(
        """
        import asyncio

        async def main(x: int, delay: float = 0.01):
            await asyncio.sleep(delay)
            print("awake")
            return x * 2
        """,
        {"x": 21},
    )
    assert outcome.ok, outcome.error
    assert outcome.result == 42
    assert lines(logs) == ["awake"]


def test_positional_only_and_keyword_only_parameters_get_their_args(runner):
    outcome, _ = runner.run(
        """
        def main(a, b=2, /, c=3, *, d):
            return [a, b, c, d]
        """,
        {"a": 1, "c": 30, "d": 4},
    )
    assert outcome.ok, outcome.error
    assert outcome.result == [1, 2, 30, 4]


def test_args_main_does_not_name_are_dropped_unless_it_takes_kwargs(runner):
    strict, _ = runner.run("def main(a, *rest):\n    return [a, list(rest)]",
                           {"a": 1, "rest": 2, "z": 3})
    loose, _ = runner.run("def main(a, **more):\n    return [a, more]", {"a": 1, "z": 3})
    assert (strict.ok, strict.result) == (True, [1, []])
    assert (loose.ok, loose.result) == (True, [1, {"z": 3}])


def test_missing_required_arg_fails_naming_it(runner):
    outcome, _ = runner.run("def main(needed, other=1):\n    return needed")
    assert not outcome.ok
    assert outcome.error["name"] == "TypeError"
    assert "'needed'" in outcome.error["message"]


def test_optional_parameter_without_default_gets_none_when_not_given(runner):
    outcome, _ = runner.run(
        """
        from typing import Optional, Union

        def main(a: Optional[str], b: int | None, c: "Union[None, int]", d: "float | None",
                 e: "typing.Optional[list[int]]", given: Optional[int]):
            return [a, b, c, d, e, given]
        """,
        {"given": 5},
    )
    assert outcome.ok, outcome.error
    assert outcome.result == [None, None, None, None, None, 5]


def test_plain_parameter_without_default_is_still_required(runner):
    outcome, _ = runner.run('def main(a: "list[None]", b: "NoneType"):\n    return 1\n')
    assert not outcome.ok
    assert "'a' and 'b'" in outcome.error["message"]


def test_script_without_main_fails_saying_so(runner):
    outcome, _ = runner.run("x = 1\n")
    assert not outcome.ok
    assert "no function `main`" in outcome.error["message"]


def test_syntax_error_fails_naming_the_line(runner):
    outcome, _ = runner.run("def main():\n    return (1 +\n\nx = 2\n")
    assert not outcome.ok
    assert outcome.error["name"] == "SyntaxError"
    assert "(line 2)" in outcome.error["message"]


# --- log lines ------------------------------------------------------------------------


def test_print_lines_reach_on_log_while_the_script_runs(runner):
    started = time.time()
    outcome, logs = runner.run(
        """
        import time

        def main():
            print("first")
            time.sleep(0.3)
            print("second")
            return "done"
        """
    )
    ended = time.time()
    assert outcome.ok, outcome.error
    assert [(log.stream, log.line) for log in logs] == [("stdout", "first"), ("stdout", "second")]
    first, second = logs
    assert second.ts - first.ts >= 0.25, "the first line must arrive before the sleep ends"
    assert started <= first.ts <= ended - 0.25


def test_stderr_c_level_and_subprocess_output_become_log_lines(runner):
    outcome, logs = runner.run(
        """
        import os, subprocess, sys

        def main():
            print("to stderr", file=sys.stderr)
            os.write(1, b"raw fd write\\n")
            subprocess.run(["sh", "-c", "echo from child; echo child err >&2"], check=True)
            sys.stdout.write("no newline at the end")
            return 1
        """
    )
    assert outcome.ok, outcome.error
    assert lines(logs) == ["raw fd write", "from child", "no newline at the end"]
    assert lines(logs, "stderr") == ["to stderr", "child err"]


def test_all_output_arrives_before_the_outcome_even_when_large(runner):
    outcome, logs = runner.run(
        """
        def main():
            print("x" * 300_000)
            for i in range(5000):
                print(i)
            return "end"
        """
    )
    assert outcome.ok, outcome.error
    out = lines(logs)
    assert len(out) == 5001
    assert out[0] == "x" * 300_000
    assert out[-1] == "4999"


def test_output_written_before_an_exception_is_kept(runner):
    outcome, logs = runner.run(
        """
        def main():
            print("about to fail", end="")
            raise RuntimeError("nope")
        """
    )
    assert not outcome.ok
    assert lines(logs) == ["about to fail"]


# --- results --------------------------------------------------------------------------


def test_result_json_values_come_back_as_data(runner):
    outcome, _ = runner.run(
        """
        def main():
            return {"n": 1, "f": 1.5, "s": "héllo ✓", "l": [None, True], "t": (1, 2), "d": {}}
        """
    )
    assert outcome.ok, outcome.error
    assert outcome.result == {"n": 1, "f": 1.5, "s": "héllo ✓", "l": [None, True], "t": [1, 2],
                              "d": {}}


def test_none_result_is_null(runner):
    outcome, _ = runner.run("def main():\n    pass\n")
    assert (outcome.ok, outcome.result) == (True, None)


@pytest.mark.parametrize(
    ("expression", "named"),
    [("{1, 2}", "set"), ("object()", "object"), ("{'at': __import__('datetime').date.today()}", "date"),
     ("b'raw'", "bytes")],
)
def test_result_that_is_not_json_fails_naming_its_type(runner, expression, named):
    outcome, _ = runner.run(f"def main():\n    return {expression}\n")
    assert not outcome.ok
    assert outcome.error["name"] == "TypeError"
    assert "not JSON" in outcome.error["message"]
    assert f"type {named} " in outcome.error["message"]


def test_nan_result_is_not_json(runner):
    outcome, _ = runner.run("def main():\n    return [float('nan')]\n")
    assert not outcome.ok
    assert "not JSON" in outcome.error["message"]


def test_result_at_the_size_limit_arrives_whole(runner):
    # As JSON the string gains two quotes: exactly RESULT_LIMIT bytes.
    outcome, _ = runner.run(f"def main():\n    return 'x' * {RESULT_LIMIT - 2}\n")
    assert outcome.ok, outcome.error
    assert outcome.result == "x" * (RESULT_LIMIT - 2)


def test_result_over_the_size_limit_fails_naming_its_size(runner):
    outcome, _ = runner.run(f"def main():\n    return 'x' * {RESULT_LIMIT - 1}\n")
    assert not outcome.ok
    assert outcome.result is None
    assert outcome.error["name"] == "ResultTooLarge"
    assert f"{RESULT_LIMIT + 1:,} bytes" in outcome.error["message"]
    assert f"{RESULT_LIMIT:,} bytes" in outcome.error["message"]
    assert "MILLRACE_MAX_RESULT_BYTES" in outcome.error["message"]


def test_default_result_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("MILLRACE_MAX_RESULT_BYTES", "1234")
    assert RunnerPool().max_result_bytes == 1234
    monkeypatch.delenv("MILLRACE_MAX_RESULT_BYTES")
    assert RunnerPool().max_result_bytes == 64 * 2**20


# --- failures -------------------------------------------------------------------------


def test_exception_gives_name_message_and_the_scripts_stack(runner):
    outcome, _ = runner.run(
        """
        def helper(value):
            raise ValueError(f"bad value {value!r}")

        def main():
            helper(7)
        """
    )
    assert not outcome.ok
    error = outcome.error
    assert error["name"] == "ValueError"
    assert error["message"] == "bad value 7"
    assert 'File "main.py", line 6, in main' in error["stack"]
    assert 'File "main.py", line 3, in helper' in error["stack"]
    assert 'raise ValueError(f"bad value {value!r}")' in error["stack"]
    assert "python_zygote" not in error["stack"]


def test_huge_error_message_is_shortened_not_lost(runner):
    outcome, _ = runner.run("def main():\n    raise KeyError('k' * 500_000)\n")
    assert not outcome.ok
    assert outcome.error["name"] == "KeyError"
    assert outcome.error["message"].startswith("'kkk")
    assert "characters cut" in outcome.error["message"]
    assert len(outcome.error["message"]) < 100_000


CRASHES = {
    "os._exit": ("import os\ndef main():\n    print('bye')\n    os._exit(3)\n", "exited with code 3"),
    "segfault": ("import ctypes\ndef main():\n    ctypes.string_at(0)\n", "SIGSEGV"),
    "self-kill": ("import os, signal\ndef main():\n    os.kill(os.getpid(), signal.SIGKILL)\n",
                  "SIGKILL"),
}


@pytest.mark.parametrize("crash", list(CRASHES))
def test_crashing_script_fails_alone_and_the_next_job_runs(runner, crash):
    content, how = CRASHES[crash]
    outcome, _ = runner.run(content)
    assert not outcome.ok
    assert outcome.error["name"] == "ScriptCrashed"
    assert how in outcome.error["message"]
    assert "before main returned" in outcome.error["message"]
    after, _ = runner.run("def main():\n    return 'still working'\n")
    assert (after.ok, after.result) == (True, "still working")


def test_script_that_signals_every_process_it_sees_does_not_break_later_jobs(runner):
    outcome, _ = runner.run(
        """
        import os, signal

        def main():
            tried = []
            for pid in [1, os.getppid(), *(int(p) for p in os.listdir("/proc") if p.isdigit())]:
                if pid != os.getpid():
                    try:
                        os.kill(pid, signal.SIGKILL)
                        tried.append(pid)
                    except OSError:
                        pass
            return "still here"
        """
    )
    assert (outcome.ok, outcome.result) == (True, "still here")
    for _ in range(3):
        after, _ = runner.run("def main():\n    return 'fine'\n")
        assert (after.ok, after.result) == (True, "fine"), after.error


def test_timeout_kills_the_script_and_its_subprocesses(runner, tmp_path):
    started = time.monotonic()
    outcome, logs = runner.run(
        """
        import subprocess, time

        def main():
            child = subprocess.Popen(["sleep", "30"])
            print(child.pid, flush=True)
            time.sleep(30)
        """,
        timeout=0.4,
    )
    assert time.monotonic() - started < 5.0, "the timeout, not the script, ends the run"
    assert not outcome.ok
    assert outcome.error["name"] == "TimeoutError"
    assert outcome.error["message"] == "script timed out after 0.4 s (the step's timeout) and was killed"
    assert none_left("30.4101") and none_left("30.4102")
    after, _ = runner.run("def main():\n    return 1\n")
    assert after.ok


def test_processes_the_script_leaves_behind_end_with_its_step(runner):
    outcome, _ = runner.run(
        """
        import subprocess

        def main():
            subprocess.Popen(["sleep", "30.4201"])
            subprocess.Popen(["sleep", "30.4202"], start_new_session=True)  # its own session, too
        """
    )
    assert outcome.ok, outcome.error
    assert none_left("30.4201") and none_left("30.4202")


def test_cancelled_run_kills_the_script(runner):
    logs: list[LogLine] = []
    script = f"import time\ndef main():\n    {NAME_ITSELF.format(name='mr-cancelled')}\n    print('up', flush=True)\n" \
             "    time.sleep(30)\n"

    async def start_then_cancel() -> None:
        task = asyncio.ensure_future(runner.pool.run(ScriptJob("python3", script, {}, "j"), logs.append))
        for _ in range(200):
            if logs:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    runner.loop.run_until_complete(start_then_cancel())
    assert logs[0].line == "up"
    assert none_left("mr-cancelled")


ENGINE_THAT_DIES = """
import asyncio, sys
from engine.runners import RunnerPool, ScriptJob

script = "import time\\ndef main():\\n    open('/proc/self/comm', 'w').write('mr-orphan')\\n    print('up', flush=True)\\n    time.sleep(60)\\n"

def relay(log):
    print(log.line, flush=True)

asyncio.run(RunnerPool().run(ScriptJob("python3", script, {}, "orphan"), relay))
"""


def test_script_ends_when_the_engine_running_it_is_killed(tmp_path):
    engine = subprocess.Popen([sys.executable, "-c", ENGINE_THAT_DIES], stdout=subprocess.PIPE,
                              cwd=Path(__file__).parents[2], start_new_session=True, text=True)
    try:
        assert engine.stdout.readline().strip() == "up"
        assert processes_mentioning("mr-orphan")
    finally:
        os.killpg(engine.pid, signal.SIGKILL)
        engine.wait()
        engine.stdout.close()
    assert none_left("mr-orphan"), "the script must not run on without its engine"


def test_memory_hog_fails_with_a_clear_error_and_the_next_job_runs(runner):
    outcome, _ = runner.run(
        """
        hoard = []

        def main():
            while True:
                hoard.append("x" * 1000 + str(len(hoard)))
        """,
        memory_limit_mb=120,
    )
    assert not outcome.ok
    assert outcome.error["name"] == "MemoryError"
    assert "ran out of memory" in outcome.error["message"]
    assert "120 MiB" in outcome.error["message"]
    assert "MILLRACE_SCRIPT_MEMORY_MB" in outcome.error["message"]
    assert "hoard.append" in outcome.error["stack"]
    after, _ = runner.run("def main():\n    return len(bytearray(50 * 2**20))\n")
    assert (after.ok, after.result) == (True, 50 * 2**20)


def test_memory_cap_comes_from_the_job_else_the_environment(runner, monkeypatch):
    script = "import resource\ndef main():\n    return resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20\n"
    monkeypatch.setenv("MILLRACE_SCRIPT_MEMORY_MB", "300")
    from_env, _ = runner.run(script)
    own, _ = runner.run(script, memory_limit_mb=400)
    monkeypatch.delenv("MILLRACE_SCRIPT_MEMORY_MB")
    default, _ = runner.run(script)
    assert (from_env.result, own.result, default.result) == (300, 400, 2048)


# --- environment and isolation --------------------------------------------------------


def test_script_sees_its_job_id_and_extra_environment(runner):
    outcome, _ = runner.run(
        """
        import os

        def main():
            return [os.environ[k] for k in ("MILLRACE_JOB_ID", "WM_JOB_ID", "GREETING")]
        """,
        env={"GREETING": "hi"},
    )
    assert outcome.result == ["job-1", "job-1", "hi"]


def test_each_job_gets_a_fresh_working_directory_removed_afterwards(runner):
    script = """
        import os

        def main():
            listing = os.listdir(".")
            open("mine.txt", "w").close()
            return [os.getcwd(), listing]
        """
    first, _ = runner.run(script)
    second, _ = runner.run(script)
    assert first.result[1] == second.result[1] == []
    assert first.result[0] != second.result[0]
    deadline = time.monotonic() + 3
    while Path(first.result[0]).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not Path(first.result[0]).exists()


def test_given_working_directory_is_used(runner, tmp_path):
    (tmp_path / "input.txt").write_text("from the flow")
    outcome, _ = runner.run(
        "def main():\n    open('out.txt', 'w').write('written')\n    return open('input.txt').read()\n",
        cwd=str(tmp_path),
    )
    assert outcome.result == "from the flow"
    assert (tmp_path / "out.txt").read_text() == "written"


def test_module_state_does_not_leak_between_jobs(runner):
    script = """
        import json

        calls = []

        def main():
            calls.append(1)
            json.marker = getattr(json, "marker", 0) + 1  # a preloaded module, changed
            return [len(calls), json.marker]
        """
    assert runner.run(script)[0].result == [1, 1]
    assert runner.run(script)[0].result == [1, 1]


def test_jobs_run_side_by_side_with_their_own_logs(runner):
    script = textwrap.dedent(
        """
        import time

        def main(n):
            print("job", n)
            started = time.time()
            time.sleep(0.5)
            return [started, time.time()]
        """
    )
    logs: dict[int, list[LogLine]] = {n: [] for n in range(4)}

    async def run_all() -> list[ScriptOutcome]:
        jobs = [ScriptJob("python3", script, {"n": n}, f"job-{n}") for n in range(4)]
        return await asyncio.gather(*(runner.pool.run(job, logs[n].append)
                                      for n, job in enumerate(jobs)))

    outcomes = runner.loop.run_until_complete(run_all())
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    spans = [o.result for o in outcomes]
    assert max(start for start, _ in spans) < min(end for _, end in spans), "all four overlap"
    assert {n: lines(logs[n]) for n in logs} == {n: [f"job {n}"] for n in logs}


# --- the pool -------------------------------------------------------------------------


def test_pool_refuses_an_unsupported_language(runner):
    job = ScriptJob("ruby", "puts 1", {}, "j")
    outcome = runner.loop.run_until_complete(runner.pool.run(job))
    assert not outcome.ok
    assert outcome.error["name"] == "ScriptLoadError"
    assert "'ruby'" in outcome.error["message"]
    assert "python3" in outcome.error["message"]


def test_close_leaves_no_process_or_file_behind():
    runner = Runner(RunnerPool())
    try:
        outcome, _ = runner.run("def main():\n    return 1\n")
        scratch = runner.pool.folder
        assert processes_mentioning(scratch), "the pool's zygote runs, named by its scratch folder"
    finally:
        runner.close()
    assert outcome.ok
    assert none_left(scratch)
    assert not Path(scratch).exists()


def roots(pids: list[int]) -> set[int]:
    """The processes among `pids` whose parent is not among them (a zygote's bwrap); one
    that ended meanwhile (a finished job's, say) is none."""
    def parent(pid: int) -> int | None:
        try:
            return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            return None
    return {pid for pid in pids if (found := parent(pid)) is not None and found not in pids}


def test_a_warmed_pool_runs_its_first_job_in_the_zygote_it_booted_ahead():
    pool = RunnerPool()
    pool.warm()  # no event loop yet, as the CLI calls it
    booting = roots(started(pool.folder))
    runner = Runner(pool)
    try:
        outcome, _ = runner.run("def main():\n    return 7\n")
        serving = roots(processes_mentioning(pool.folder))
    finally:
        runner.close()
    assert len(booting) == 1, "warm() starts the zygote before any job"
    assert (outcome.ok, outcome.result) == (True, 7)
    assert serving == booting, "the job ran in that zygote: no second one was started"
    assert none_left(pool.folder)


def test_a_warmed_pool_closed_without_a_job_leaves_no_process_behind():
    pool = RunnerPool()
    pool.warm()
    assert started(pool.folder)
    asyncio.run(pool.close())
    assert none_left(pool.folder)


def test_pool_moves_to_a_new_event_loop_cleanly():
    pool = RunnerPool()
    script = "def main():\n    return 1\n"
    first_loop = asyncio.new_event_loop()
    first = first_loop.run_until_complete(pool.run(ScriptJob("python3", script, {}, "a")))
    first_zygote = set(processes_mentioning(pool.folder))
    first_loop.close()
    second_loop = asyncio.new_event_loop()
    try:
        second = second_loop.run_until_complete(pool.run(ScriptJob("python3", script, {}, "b")))
        second_zygote = set(processes_mentioning(pool.folder))
    finally:
        second_loop.run_until_complete(pool.close())
        second_loop.close()
    assert first.ok and second.ok
    assert first_zygote and second_zygote and not first_zygote & second_zygote, "the new loop gets its own zygote"
    assert all(process_gone(pid) for pid in first_zygote | second_zygote)
    gc.collect()  # unclosed transports of the first loop would warn (an error) here
