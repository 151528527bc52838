"""`python -m engine` as a user runs it: stdout, stderr and exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from engine import Engine, Store
from tests.flowkit import counter_code, expr_step, flow, py

ROOT = Path(__file__).resolve().parents[2]


def cli(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=timeout)


def write(tmp_path: Path, name: str, document: dict) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document) if name.endswith((".yaml", ".yml")) else json.dumps(document))
    return str(path)


def test_run_prints_the_result_and_exits_0(tmp_path):
    file = write(tmp_path, "f.yaml", flow(expr_step("a", "flow_input.x * 2")))
    done = cli(tmp_path, "run", file, "--args", '{"x": 21}')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == 42


def test_run_of_a_json_flow_without_a_schema_or_expressions_loads_only_what_it_uses(tmp_path):
    file = write(tmp_path, "f.json", flow(py("a", "def main():\n    return 1\n")))
    assert cli(tmp_path, "run", file).returncode == 0  # makes the database (migrations load more)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "engine", "run", file], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, json.loads(done.stdout)) == (0, 1), done.stderr
    loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "engine.store" in loaded, "the import log is read"
    unused = {"yaml", "jsonschema", "sqlalchemy.dialects.postgresql", "sqlalchemy.orm", "sqlmodel", "alembic",
              "pyjsparser", "quickjs", "tomllib"}
    assert loaded & unused == set(), "start-up imports only what a run uses"


def test_bare_flow_value_and_args_file(tmp_path):
    file = write(tmp_path, "bare.json", {"modules": [expr_step("a", "flow_input.name")]})
    (tmp_path / "args.json").write_text('{"name": "ada"}')
    done = cli(tmp_path, "run", file, "--args-file", str(tmp_path / "args.json"))
    assert (done.returncode, json.loads(done.stdout)) == (0, "ada")


def test_failed_flow_exits_1_with_the_error_object_on_stdout(tmp_path):
    file = write(tmp_path, "f.json", flow(py("boom", "def main():\n    raise ValueError('bad')\n")))
    done = cli(tmp_path, "run", file)
    assert done.returncode == 1
    error = json.loads(done.stdout)["error"]
    assert (error["name"], error["message"], error["step_id"]) == ("ValueError", "bad", "boom")


def test_run_reads_inline_scripts_beside_a_synced_flow_yaml(tmp_path):
    folder = tmp_path / "greet.flow"
    folder.mkdir()
    (folder / "flow.yaml").write_text(
        "summary: synced\nvalue:\n  modules:\n"
        "    - id: a\n      value:\n        type: rawscript\n        language: python3\n"
        "        content: '!inline a.inline_script.py'\n"
        "        input_transforms: {name: {type: javascript, expr: flow_input.name}}\n")
    (folder / "a.inline_script.py").write_text("def main(name):\n    return f'hi {name}'\n")
    done = cli(tmp_path, "run", str(folder / "flow.yaml"), "--args", '{"name": "ada"}')
    assert (done.returncode, json.loads(done.stdout or "null")) == (0, "hi ada"), done.stderr
    (folder / "flow.yaml").write_text((folder / "flow.yaml").read_text().replace("a.inline", "../a.inline"))
    refused = cli(tmp_path, "run", str(folder / "flow.yaml"))
    assert refused.returncode == 2
    assert "value.modules[0].value.content: '!inline ../a.inline_script.py' must name a file inside" in refused.stderr


def test_invalid_yaml_exits_2_naming_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("summary: x\nvalue:\n  modules: [\n    - id: a\n  bad: : :\n")
    done = cli(tmp_path, "run", str(path))
    assert done.returncode == 2
    assert "broken.yaml" in done.stderr and ":" in done.stderr
    assert done.stdout == ""


def test_unknown_module_type_names_the_path_and_allowed_types(tmp_path):
    file = write(tmp_path, "f.json", flow({"id": "a", "value": {"type": "forloop"}}))
    done = cli(tmp_path, "run", file)
    assert done.returncode == 2
    assert "value.modules[0].value" in done.stderr and "forloopflow" in done.stderr


def test_expression_syntax_error_names_step_and_expression(tmp_path):
    file = write(tmp_path, "f.json", flow(expr_step("calc", "flow_input.x +* 2")))
    done = cli(tmp_path, "run", file)
    assert done.returncode == 2
    assert "calc" in done.stderr and "flow_input.x +* 2" in done.stderr


def test_script_without_main_is_refused_at_load(tmp_path):
    file = write(tmp_path, "f.json", flow(py("a", "def helper():\n    return 1\n")))
    done = cli(tmp_path, "run", file)
    assert done.returncode == 2
    assert "main" in done.stderr


def test_args_against_the_schema_list_every_error_with_its_path(tmp_path):
    schema = {"type": "object", "properties": {"n": {"type": "integer"}, "mail": {"type": "string", "format": "email"}},
              "required": ["n", "mail"]}
    file = write(tmp_path, "f.json", flow(expr_step("a", "1"), schema=schema))
    done = cli(tmp_path, "run", file, "--args", '{"n": "x"}')
    assert done.returncode == 2
    assert "n" in done.stderr and "mail" in done.stderr
    bad_json = cli(tmp_path, "run", file, "--args", "{nope")
    assert bad_json.returncode == 2 and "--args" in bad_json.stderr


def test_events_flag_writes_json_lines_of_step_events(tmp_path):
    file = write(tmp_path, "f.json", flow(py("a", "def main():\n    print('hi')\n    return 1\n"), expr_step("b", "2")))
    done = cli(tmp_path, "run", file, "--events")
    assert done.returncode == 0
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    kinds = [(e["kind"], e.get("step_id")) for e in events]
    assert ("step_started", "a") in kinds and ("step_finished", "b") in kinds
    assert kinds.index(("step_finished", "a")) < kinds.index(("step_started", "b"))
    assert any(e["kind"] == "step_log" and e["data"]["line"] == "hi" for e in events)


# A run is held with a heartbeat: once a killed process's is 2 s old, another driver
# (`run --run-id`, `recover`) takes the run over.
FAST = ("--heartbeat", "0.5", "--stale-after", "2")


def killed_mid_run(tmp_path: Path, run_id: str) -> tuple[str, Path]:
    """Start `run` of a three-step flow and kill it (SIGKILL) while step b runs.

    Returns the flow file and the folder where each step counts its executions.
    """
    marks = tmp_path / "marks"
    marks.mkdir()
    slow = (
        "import os, time\n"
        "def main():\n"
        f"    open({str(marks / 'b')!r}, 'a').write('x\\n')\n"
        f"    if not os.path.exists({str(marks / 'flag')!r}):\n"
        f"        open({str(marks / 'flag')!r}, 'w').close()\n"
        "        time.sleep(60)\n"
        "    return 'b'\n"
    )
    document = flow(py("a", counter_code(str(marks / "a"))), py("b", slow), py("c", counter_code(str(marks / "c"))))
    file = write(tmp_path, "f.json", document)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "engine", "run", file, "--run-id", run_id, *FAST],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while not (marks / "flag").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    return file, marks


def executions(marks: Path) -> tuple[int, int, int]:
    return tuple(len((marks / step).read_text().splitlines()) for step in "abc")  # type: ignore[return-value]


def test_killed_run_resumes_after_the_last_finished_step(tmp_path):
    file, marks = killed_mid_run(tmp_path, "crash1")
    done = cli(tmp_path, "run", file, "--run-id", "crash1", *FAST)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == 1
    assert executions(marks) == (1, 2, 1)


def test_recover_drives_killed_and_queued_runs_to_their_end_then_exits(tmp_path):
    file, marks = killed_mid_run(tmp_path, "crash2")
    engine = Engine(store=Store.open(f"sqlite:///{tmp_path / 'data' / 'millrace.db'}"))
    queued = engine.submit(flow(expr_step("x", "6 * 7")))
    engine.store.close()
    started = time.monotonic()
    done = cli(tmp_path, "recover", *FAST)
    assert done.returncode == 0, done.stderr
    shown = sorted((json.loads(line) for line in done.stdout.splitlines()), key=lambda run: run["run_id"])
    assert shown == sorted([{"run_id": "crash2", "status": "success", "result": 1},
                            {"run_id": queued, "status": "success", "result": 42}], key=lambda run: run["run_id"])
    assert executions(marks) == (1, 2, 1)
    assert time.monotonic() - started >= 2  # it judged the killed process dead only after --stale-after
    again = cli(tmp_path, "recover", *FAST)
    assert (again.returncode, again.stdout) == (0, "")


def test_approval_from_another_process_continues_a_waiting_cli_run(tmp_path):
    ask = expr_step("ask", "'q'")
    ask["suspend"] = {"required_events": 1, "timeout": 120}
    file = write(tmp_path, "f.json", flow(ask, expr_step("after", "resume.answer")))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "engine", "run", file, "--run-id", "wait1"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = cli(tmp_path, "status", "wait1")
            if status.returncode == 0 and json.loads(status.stdout)["status"] == "suspended":
                break
            time.sleep(0.1)
        decided = cli(tmp_path, "resume", "wait1", "--approver", "eve", "--payload", '{"answer": 42}')
        assert decided.returncode == 0, decided.stderr
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert json.loads(out) == 42


def test_deps_lock_prints_a_scripts_lock_and_deps_prune_clears_the_cache(tmp_path):
    folder = tmp_path / "f" / "tools"
    folder.mkdir(parents=True)
    (folder / "job.py").write_text("import six  # pin: six==1.16.0\n\ndef main():\n    return six.__version__\n")
    locked = cli(tmp_path, "deps", "lock", "f/tools/job.py")
    assert locked.returncode == 0 and locked.stdout.splitlines()[1:] == ["six==1.16.0"], locked.stderr
    (folder / "job.script.lock").write_text(locked.stdout)
    ran = cli(tmp_path, "run", write(tmp_path, "f.json", flow(
        {"id": "a", "value": {"type": "script", "path": "f/tools/job", "input_transforms": {}}})))
    assert (ran.returncode, json.loads(ran.stdout)) == (0, "1.16.0"), ran.stderr
    pruned = cli(tmp_path, "deps", "prune")
    assert pruned.returncode == 0 and "removed python/" in pruned.stdout
    assert cli(tmp_path, "deps", "lock", "nothing.txt").returncode == 2
