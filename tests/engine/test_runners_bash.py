"""Bash scripts: positional args, the last stdout line as result, exit codes, limits."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest

from engine.runners import LogLine, RunnerPool, ScriptJob
from tests.engine.runnerkit import Runner, lines, none_left

RESULT_LIMIT = 10_000


@pytest.fixture(scope="module")
def runner():
    runner = Runner(RunnerPool(max_result_bytes=RESULT_LIMIT), "bash", "job-7")
    yield runner
    runner.close()


# --- arguments ------------------------------------------------------------------------


def test_args_are_passed_in_the_order_of_the_scripts_positional_lines(runner):
    outcome, logs = runner.run(
        """
        greeting="$1"
        name="${2}"
        local_count=$3
        echo "$greeting, $name x$local_count"
        """,
        {"name": "Ada", "local_count": 3, "greeting": "Hello"},
    )
    assert outcome.ok, outcome.error
    assert outcome.result == "Hello, Ada x3"
    assert lines(logs) == ["Hello, Ada x3"]


def test_missing_args_take_the_scripts_defaults(runner):
    outcome, _ = runner.run(
        """
        first="$1"
        second="${2:-two}"
        third="${3-three}"
        echo "[$first|$second|$third]"
        """,
        {"first": "one"},
    )
    assert outcome.result == "[one|two|three]"


def test_a_gap_in_the_args_is_passed_empty(runner):
    outcome, _ = runner.run('a="$1"\nb="$2"\nc="$3"\necho "[$a|$b|$c] $#"\n', {"a": "x", "c": "z"})
    assert outcome.result == "[x||z] 3"


def test_non_string_args_arrive_as_json_and_null_as_empty(runner):
    outcome, _ = runner.run(
        'n="$1"\nflag="$2"\nitems="$3"\nnothing="$4"\necho "$n;$flag;$items;[$nothing]"\n',
        {"n": 42, "flag": True, "items": {"a": [1, 2]}, "nothing": None},
    )
    assert outcome.result == '42;true;{"a": [1, 2]};[]'


def test_args_reach_the_script_verbatim_never_evaluated(runner):
    tricky = 'a b  "c" $(echo pwned) `id` ; rm -rf / \n second line'
    outcome, _ = runner.run('value="$1"\nprintf "%s" "$value" | base64 -w0; echo\n', {"value": tricky})
    assert base64.b64decode(outcome.result).decode() == tricky


# --- result ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_line", "result"),
    [('{"a": 1, "b": [true, null]}', {"a": 1, "b": [True, None]}), ("42", 42), ("1.5", 1.5),
     ("true", True), ('"quoted"', "quoted"), ("plain words", "plain words"),
     ("NaN", "NaN"), ("Infinity", "Infinity"), ("{not json", "{not json")],
)
def test_last_stdout_line_is_the_result_parsed_when_json(runner, last_line, result):
    outcome, _ = runner.run(f"echo 'a log line'\ncat <<'EOF'\n{last_line}\nEOF\n")
    assert outcome.ok, outcome.error
    assert outcome.result == result


def test_blank_trailing_lines_and_stderr_do_not_count_as_the_result(runner):
    outcome, _ = runner.run("echo '[1, 2]'\necho\necho '   '\necho 'on stderr' >&2\n")
    assert outcome.result == [1, 2]


def test_script_without_output_returns_null(runner):
    outcome, _ = runner.run("true\n")
    assert (outcome.ok, outcome.result) == (True, None)


def test_result_over_the_size_limit_fails_naming_its_size(runner):
    ok, _ = runner.run(f"head -c {RESULT_LIMIT} /dev/zero | tr '\\0' x; echo\n")
    too_big, _ = runner.run(f"head -c {RESULT_LIMIT + 1} /dev/zero | tr '\\0' x; echo\n")
    assert ok.ok and ok.result == "x" * RESULT_LIMIT
    assert not too_big.ok
    assert too_big.error["name"] == "ResultTooLarge"
    assert f"{RESULT_LIMIT + 1:,} bytes" in too_big.error["message"]


# --- logs -----------------------------------------------------------------------------


def test_output_lines_reach_on_log_while_the_script_runs(runner):
    outcome, logs = runner.run("echo first\necho oops >&2\nsleep 0.3\necho second\n")
    assert outcome.ok, outcome.error
    assert [(log.stream, log.line) for log in logs] == [
        ("stdout", "first"), ("stderr", "oops"), ("stdout", "second")]
    assert logs[2].ts - logs[0].ts >= 0.25


def test_last_line_without_a_newline_is_logged_and_is_the_result(runner):
    outcome, logs = runner.run("printf 'one\\ntwo'\n")
    assert lines(logs) == ["one", "two"]
    assert outcome.result == "two"


# --- failures -------------------------------------------------------------------------


def test_non_zero_exit_fails_with_the_stderr_tail(runner):
    outcome, _ = runner.run(
        """
        echo "progress on stdout"
        for i in 1 2 3 4 5 6 7; do echo "err $i" >&2; done
        exit 3
        """
    )
    assert not outcome.ok
    assert outcome.error["name"] == "ExitCodeError"
    message = outcome.error["message"]
    assert message.startswith("bash exited with code 3; last output:\n")
    assert message.endswith("err 3\nerr 4\nerr 5\nerr 6\nerr 7")
    assert "err 2" not in message and "progress" not in message


def test_failing_command_under_set_e_fails_the_step(runner):
    outcome, _ = runner.run("set -e\nls /no/such/dir\necho unreachable\n")
    assert not outcome.ok
    assert "exited with code 2" in outcome.error["message"]
    assert "/no/such/dir" in outcome.error["message"]


def test_exit_without_stderr_quotes_the_stdout_tail(runner):
    outcome, _ = runner.run("echo 'what happened'\nexit 1\n")
    assert outcome.error["message"] == "bash exited with code 1; last output:\nwhat happened"


def test_script_killed_by_a_signal_says_which(runner):
    outcome, _ = runner.run("kill -SEGV $$\n")
    assert not outcome.ok
    assert "killed by SIGSEGV" in outcome.error["message"]


def test_timeout_kills_the_script_and_its_background_processes(runner):
    started = time.monotonic()
    outcome, logs = runner.run("sleep 30.5101 &\nsetsid sleep 30.5102 &\nsleep 30\n", timeout=0.3)
    assert time.monotonic() - started < 5.0, "the timeout, not the script, ends the run"
    assert not outcome.ok
    assert outcome.error["name"] == "TimeoutError"
    assert "timed out after 0.3 s" in outcome.error["message"]
    assert none_left("30.5101") and none_left("30.5102")


def test_background_processes_end_with_the_step(runner):
    outcome, _ = runner.run("sleep 30.5201 &\necho started\n")
    assert outcome.ok, outcome.error
    assert none_left("30.5201")


def test_memory_cap_applies_to_the_script(runner):
    outcome, _ = runner.run("ulimit -v\n", memory_limit_mb=300)
    assert outcome.result == 300 * 1024


# --- environment ----------------------------------------------------------------------


def test_script_sees_its_job_id_and_extra_environment_only(runner):
    outcome, _ = runner.run(
        'echo "$MILLRACE_JOB_ID $WM_JOB_ID $GREETING [${MILLRACE_ULIMIT_KB:-unset}]"\n',
        env={"GREETING": "hi"},
    )
    assert outcome.result == "job-7 job-7 hi [unset]"


def test_working_directory_is_fresh_and_removed_unless_given(runner, tmp_path):
    fresh, _ = runner.run("ls -A | wc -l\npwd\n")
    assert fresh.ok
    assert not Path(fresh.result).exists()
    given, _ = runner.run("echo data > out.txt\npwd\n", cwd=str(tmp_path))
    assert given.result == str(tmp_path)
    assert (tmp_path / "out.txt").read_text() == "data\n"


def test_a_process_in_a_new_session_neither_holds_the_step_open_nor_outlives_it(runner):
    started = time.monotonic()
    outcome, _ = runner.run("setsid sleep 30.5301 &\necho started\n")
    assert time.monotonic() - started < 5.0, "the script's exit ends the run"
    assert outcome.ok, outcome.error
    assert none_left("30.5301")


def test_a_failing_log_callback_is_raised_not_swallowed(runner):
    def broken(_line: LogLine) -> None:
        raise RuntimeError("log store is down")

    job = ScriptJob("bash", "echo hello\n", {}, "j")
    with pytest.raises(RuntimeError, match="log store is down"):
        runner.loop.run_until_complete(runner.pool.run(job, broken))
