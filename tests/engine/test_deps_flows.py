"""Flows and saved scripts run with their locks; locks are made when they are saved."""

from __future__ import annotations

import pytest

from engine import DependencyError, lock_covers, lock_flow, lock_script
from tests.flowkit import flow, for_loop, py

SIX_15 = "# py311\nsix==1.15.0\n"
USES_SIX = "import six\ndef main():\n    return six.__version__\n"


def script_step(step_id: str, path: str) -> dict:
    return {"id": step_id, "value": {"type": "script", "path": path, "input_transforms": {}}}


def test_a_flow_step_runs_with_the_lock_it_carries(harness):
    step = py("a", USES_SIX)
    step["value"]["lock"] = SIX_15
    result = harness.run(flow(step))
    assert (result.status, result.result) == ("success", "1.15.0")


def test_a_script_step_runs_with_the_lock_saved_with_that_script_version(harness):
    harness.engine.store.save_script("f/deps/six_version", "python3", USES_SIX, lock=SIX_15)
    result = harness.run(flow(script_step("a", "f/deps/six_version")))
    assert (result.status, result.result) == ("success", "1.15.0")


def test_a_synced_script_runs_with_its_script_lock_file_beside_it(harness, tmp_path):
    folder = tmp_path / "f" / "sync"
    folder.mkdir(parents=True)
    (folder / "six_version.py").write_text(USES_SIX)
    (folder / "six_version.script.lock").write_text(SIX_15)
    engine = harness.new(script_roots=[tmp_path])
    result = harness.run(flow(script_step("a", "f/sync/six_version")), engine=engine)
    assert (result.status, result.result) == ("success", "1.15.0")


def test_a_step_imports_workspace_scripts_absolutely_and_relatively_and_gets_their_packages(harness):
    store = harness.engine.store
    store.save_script("f/lib/helpers", "python3", "import six\n\ndef shout(text):\n    return text.upper() + '!' * len(six.__version__[:1])\n")
    store.save_script("f/lib/greet", "python3", "from .helpers import shout\n\ndef greet(name):\n    return shout(f'hello {name}')\n")
    absolute = py("a", "from f.lib.helpers import shout\n\ndef main():\n    return shout('hi')\n")
    relative = py("b", "from .greet import greet\n\ndef main():\n    return greet('bob')\n")
    relative["value"]["path"] = "f/lib/caller"
    result = harness.run(flow(absolute, relative))
    assert result.status == "success", result.result
    assert result.result == "HELLO BOB!"


def test_a_step_whose_package_does_not_exist_fails_naming_the_step_and_the_package(harness):
    result = harness.run(flow(py("fetch", "import millrace_no_such_pkg_qq\ndef main():\n    return 1\n")))
    error = result.result["error"]
    assert result.status == "failure" and error["name"] == "DependencyError" and error["step_id"] == "fetch"
    assert "millrace-no-such-pkg-qq" in error["message"].replace("_", "-")


def test_saving_locks_a_script_and_keeps_a_given_lock_while_it_pins_every_import():
    assert lock_script("python3", "import json\ndef main(): return 1") is None
    assert lock_script("bash", "echo hi") is None
    made = lock_script("python3", "import six  # pin: six==1.16.0\ndef main(): return 1")
    assert made.startswith("# py3") and "six==1.16.0" in made.splitlines()
    assert lock_script("python3", "import six\ndef main(): return 1", lock=SIX_15) == SIX_15
    remade = lock_script("python3", "import six\nimport tabulate\ndef main(): return 1", lock=SIX_15)
    assert "six==1.15.0" not in remade and any(line.startswith("tabulate==") for line in remade.splitlines())
    ts = lock_script("bun", 'import isOdd from "is-odd";\nexport function main() { return 1; }')
    assert '"is-odd": "latest"' in ts and "\n//bun.lock\n" in ts


def test_saving_a_flow_locks_its_script_steps_at_every_depth():
    document = flow(py("plain", "def main(): return 1"),
                    for_loop("loop", "[1]", [py("inner", "import six\ndef main(): return 1")]),
                    failure_module=py("failure", "import tabulate\ndef main(): return 1"))
    locked = lock_flow(document)
    modules = locked["value"]["modules"]
    assert "lock" not in modules[0]["value"]
    assert "six==" in modules[1]["value"]["modules"][0]["value"]["lock"]
    assert "tabulate==" in locked["value"]["failure_module"]["value"]["lock"]
    assert "lock" not in document["value"]["modules"][1]["value"]["modules"][0]["value"], "the input is left alone"


def test_saving_a_flow_whose_step_cannot_be_resolved_names_the_step():
    with pytest.raises(DependencyError, match=r"step 'load': cannot resolve the Python dependencies millrace"):
        lock_flow(flow(py("load", "import millrace_no_such_pkg_qq\ndef main(): return 1")))


def test_a_lock_the_code_outgrew_is_told_apart_without_resolving_anything():
    assert lock_covers("python3", "import six\ndef main(): return 1", SIX_15)
    assert not lock_covers("python3", "import six\nimport tabulate\ndef main(): return 1", SIX_15)
    assert not lock_covers("python3", "import six  # pin: six>=1.16\ndef main(): return 1", SIX_15)
    assert lock_covers("python3", "import json\ndef main(): return 1", None)
    assert not lock_covers("python3", "import six\ndef main(): return 1", None)
    assert lock_covers("bash", "echo hi", None)
