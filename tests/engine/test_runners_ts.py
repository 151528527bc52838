"""TypeScript/JavaScript scripts under bun and under Deno: `export async function main`,
logs, results. Every test runs under both runtimes ("bun" steps, "deno" steps)."""

from __future__ import annotations

import time

import pytest

from engine.runners import RunnerPool
from engine.runners import bun as bun_runner
from engine.runners import deno as deno_runner
from tests.engine.runnerkit import Runner, lines, none_left

RESULT_LIMIT = 20_000
FIND = {"bun": (bun_runner, "find_bun"), "deno": (deno_runner, "find_deno")}
SPAWN = {"bun": 'Bun.spawn(["sleep", "30.6101"]);',
         "deno": 'new Deno.Command("sleep", { args: ["30.6101"] }).spawn();'}


@pytest.fixture(scope="module", params=["bun", "deno"])
def runner(request):
    module, find = FIND[request.param]
    if getattr(module, find)() is None:
        pytest.skip(module.INSTALL_HINT)
    runner = Runner(RunnerPool(max_result_bytes=RESULT_LIMIT), request.param, "job-ts")
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def both():
    """One pool for tests that pick the language per job (so they run once, not per runtime)."""
    for module, find in FIND.values():
        if getattr(module, find)() is None:
            pytest.skip(module.INSTALL_HINT)
    runner = Runner(RunnerPool(max_result_bytes=RESULT_LIMIT), "bun", "job-ts")
    yield runner
    runner.close()


# --- calling main ---------------------------------------------------------------------


@pytest.mark.parametrize(("language", "deno"), [("bun", False), ("nativets", False), ("deno", True)])
def test_deno_steps_run_under_deno_and_other_ts_steps_under_bun(both, language, deno):
    outcome, _ = both.run("export function main() { return typeof Deno !== 'undefined' && typeof Bun === 'undefined' }",
                            language=language)
    assert (outcome.ok, outcome.result) == (True, deno)


def test_deno_apis_work_in_deno_steps(both):
    outcome, _ = both.run(
        """
        export async function main(path: string) {
          await Deno.writeTextFile(path, "kept");
          return [Deno.env.get("GREETING"), typeof Deno.version.deno, await Deno.readTextFile(path)];
        }
        """,
        {"path": "note.txt"}, language="deno", env={"GREETING": "hi"},
    )
    assert outcome.result == ["hi", "string", "kept"], outcome.error


@pytest.mark.parametrize("language", ["bun", "deno", "nativets"])
def test_every_ts_language_runs_main_with_args_in_declaration_order(both, language):
    outcome, logs = both.run(
        """
        export async function main(greeting: string, name: string, times: number = 1) {
          console.log(`greeting ${name}`);
          return Array(times).fill(`${greeting}, ${name}`);
        }
        """,
        {"times": 2, "name": "Ada", "greeting": "Hi"},
        language=language,
    )
    assert outcome.ok, outcome.error
    assert outcome.result == ["Hi, Ada", "Hi, Ada"]
    assert lines(logs) == ["greeting Ada"]


def test_missing_args_take_defaults_and_optional_ones_are_undefined(runner):
    outcome, _ = runner.run(
        """
        export async function main(a: string, b = 10, c?: string, d: { x: number } = { x: 1 }) {
          return { a, b, c: c === undefined ? "undefined" : c, d };
        }
        """,
        {"a": "given"},
    )
    assert outcome.result == {"a": "given", "b": 10, "c": "undefined", "d": {"x": 1}}


def test_json_args_keep_their_types(runner):
    outcome, _ = runner.run(
        "export function main(n: number, flag: boolean, items: string[], obj: object) {\n"
        "  return [typeof n, typeof flag, Array.isArray(items), typeof obj, obj];\n}\n",
        {"n": 1.5, "flag": False, "items": ["a"], "obj": {"k": None}},
    )
    assert outcome.result == ["number", "boolean", True, "object", {"k": None}]


def test_plain_javascript_and_sync_and_arrow_mains_run(runner):
    plain, _ = runner.run("export function main(x) { return x + 1 }\n", {"x": 1})
    arrow, _ = runner.run("export const main = async (x: number) => x * 3;\n", {"x": 2})
    default, _ = runner.run("export default async function main(x: string) { return x }\n",
                            {"x": "default export"})
    assert [plain.result, arrow.result, default.result] == [2, 6, "default export"]


def test_destructured_parameter_keeps_later_args_in_place(runner):
    outcome, _ = runner.run(
        "export function main({ a }: { a?: number } = {}, b: number) { return [a ?? null, b] }\n",
        {"b": 2},
    )
    assert outcome.result == [None, 2]


# --- logs -----------------------------------------------------------------------------


def test_console_lines_reach_on_log_while_the_script_runs(runner):
    outcome, logs = runner.run(
        """
        export async function main() {
          console.log("first");
          console.error("problem");
          await new Promise((resolve) => setTimeout(resolve, 300));
          console.log("second");
          return "done";
        }
        """
    )
    assert outcome.ok, outcome.error
    assert [(log.stream, log.line) for log in logs] == [
        ("stdout", "first"), ("stderr", "problem"), ("stdout", "second")]
    assert logs[2].ts - logs[0].ts >= 0.25


def test_logs_are_never_taken_for_the_result(runner):
    outcome, logs = runner.run('export function main() { console.log(\'{"fake": 1}\'); }\n')
    assert (outcome.ok, outcome.result) == (True, None)
    assert lines(logs) == ['{"fake": 1}']


# --- results --------------------------------------------------------------------------


def test_result_json_values_come_back_as_data(runner):
    outcome, _ = runner.run(
        """
        export function main() {
          return { n: 1, f: 1.5, s: "héllo ✓", l: [null, true], when: new Date(0), gone: undefined };
        }
        """
    )
    assert outcome.result == {"n": 1, "f": 1.5, "s": "héllo ✓", "l": [None, True],
                              "when": "1970-01-01T00:00:00.000Z"}


@pytest.mark.parametrize(
    ("expression", "says"),
    [("10n", ("bigint",)), ("(() => { const o: any = {}; o.self = o; return o })()", ("cyclic", "circular"))],
)
def test_result_that_is_not_json_fails_saying_why(runner, expression, says):
    outcome, _ = runner.run(f"export function main() {{ return {expression} }}\n")
    assert not outcome.ok
    assert outcome.error["name"] == "TypeError"
    assert outcome.error["message"].startswith("result of main is not JSON: ")
    assert any(word in outcome.error["message"].lower() for word in says)  # JavaScriptCore's or V8's word


def test_result_over_the_size_limit_fails_naming_its_size(runner):
    fits, _ = runner.run(f"export function main() {{ return 'x'.repeat({RESULT_LIMIT - 2}) }}\n")
    too_big, _ = runner.run(f"export function main() {{ return 'x'.repeat({RESULT_LIMIT - 1}) }}\n")
    assert fits.ok and fits.result == "x" * (RESULT_LIMIT - 2)
    assert not too_big.ok
    assert too_big.error["name"] == "ResultTooLarge"
    assert f"{RESULT_LIMIT + 1:,} bytes" in too_big.error["message"]


# --- failures -------------------------------------------------------------------------


def test_thrown_error_gives_name_message_and_the_scripts_stack(runner):
    outcome, _ = runner.run(
        """
        function check(value: number) {
          throw new RangeError(`out of range: ${value}`);
        }

        export async function main() {
          check(7);
        }
        """
    )
    assert not outcome.ok
    error = outcome.error
    assert (error["name"], error["message"]) == ("RangeError", "out of range: 7")
    assert "main.ts:3" in error["stack"]
    assert "at check" in error["stack"]
    assert "millrace_wrapper" not in error["stack"]


def test_thrown_non_error_value_is_its_message(runner):
    outcome, _ = runner.run('export function main() { throw "just a string" }\n')
    assert outcome.error == {"name": "Error", "message": "just a string", "stack": ""}


def test_syntax_error_fails_naming_the_line(runner):
    outcome, _ = runner.run("const a = 1;\nexport async function main() {\n  return a +* 2;\n}\n")
    assert not outcome.ok
    assert outcome.error["name"] == "SyntaxError"
    assert "line 3" in outcome.error["message"]
    assert "return a +* 2;" in outcome.error["stack"]


def test_script_without_exported_main_fails_saying_so(runner):
    outcome, _ = runner.run("function main() { return 1 }\n")
    assert not outcome.ok
    assert outcome.error["name"] == "ScriptLoadError"
    assert "exports no function main" in outcome.error["message"]


def test_process_exit_fails_with_its_code_and_output(runner):
    outcome, _ = runner.run(
        'export function main() { console.error("giving up"); process.exit(4) }\n')
    assert not outcome.ok
    assert outcome.error["name"] == "ScriptCrashed"
    assert "exited with code 4" in outcome.error["message"]
    assert outcome.error["message"].endswith("giving up")
    after, _ = runner.run("export function main() { return 'next job runs' }\n")
    assert after.result == "next job runs"


def test_timeout_kills_the_script(runner):
    started = time.monotonic()
    outcome, _ = runner.run("export async function main() { while (true) {} }\n", timeout=0.5)
    assert time.monotonic() - started < 5.0, "the timeout, not the script, ends the run"
    assert not outcome.ok
    assert outcome.error["name"] == "TimeoutError"
    assert "timed out after 0.5 s" in outcome.error["message"]


def test_open_timers_and_child_processes_do_not_outlive_the_step(runner):
    started = time.monotonic()
    outcome, _ = runner.run(
        """
        export async function main() {
          setInterval(() => console.log("tick"), 1000);
          %s
          return "returned";
        }
        """ % SPAWN[runner.language]
    )
    assert time.monotonic() - started < 5.0, "main's return ends the run"
    assert outcome.ok, outcome.error
    assert none_left("30.6101")


def test_missing_runtime_fails_with_how_to_install_it(runner, monkeypatch):
    monkeypatch.setattr(*FIND[runner.language], lambda: None)
    outcome, _ = runner.run("export function main() { return 1 }\n")
    assert not outcome.ok
    assert outcome.error["name"] == "ScriptLoadError"
    how = {"bun": "npm install --prefix .tools bun@", "deno": "the PyPI package `deno` ships it"}
    assert how[runner.language] in outcome.error["message"]


# --- environment ----------------------------------------------------------------------


def test_script_sees_its_job_id_environment_and_working_directory(runner, tmp_path):
    (tmp_path / "input.txt").write_text("from the flow")
    outcome, _ = runner.run(
        """
        import { readFileSync } from "node:fs";

        export function main() {
          return [process.env.MILLRACE_JOB_ID, process.env.GREETING, readFileSync("input.txt", "utf8")];
        }
        """,
        env={"GREETING": "hi"},
        cwd=str(tmp_path),
    )
    assert outcome.result == ["job-ts", "hi", "from the flow"]
