"""A `script` or `flow` step finds files only inside the script roots, whatever its path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import BadInput, ItemPathError, NotFound, Resolver
from tests.flowkit import flow

ROOT = Path(__file__).resolve().parents[2]

SECRET = "def main():\n    return 'the secret file was read'\n"

HOSTILE = [
    "/etc/passwd",
    "../outside/secret",
    "f/../../outside/secret",
    "f/lib/../../../outside/secret",
    "f/lib/%2e%2e/%2e%2e/%2e%2e/outside/secret",
    "f/lib/..%2f..%2f..%2foutside/secret",
    "f/lib\\..\\..\\..\\outside\\secret",
    "f/lib/./../../outside/secret",
    "f/lib/secret\0.py",
]


@pytest.fixture
def tree(tmp_path):
    """root/f/lib/double.py inside the root; outside/secret.py (and .flow.json) next to it."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "f" / "lib").mkdir(parents=True)
    (root / "f" / "lib" / "double.py").write_text("def main(x: int):\n    return 2 * x\n")
    outside.mkdir()
    (outside / "secret.py").write_text(SECRET)
    (outside / "secret.flow.json").write_text('{"value": {"modules": []}}')
    return root, outside


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_paths_are_refused_before_any_file_is_looked_at(tree, path):
    root, _ = tree
    resolver = Resolver(None, [root])
    with pytest.raises(ItemPathError, match="script path .* is invalid"):
        resolver.script(path)
    with pytest.raises(ItemPathError, match="flow path .* is invalid"):
        resolver.flow(path)


def test_a_path_inside_the_root_resolves(tree):
    root, _ = tree
    language, content = Resolver(None, [root]).script("f/lib/double")
    assert (language, "2 * x" in content) == ("python3", True)


def test_a_symlinked_folder_leading_out_of_the_root_is_refused(tree):
    root, outside = tree
    os.symlink(outside, root / "f" / "escape")
    resolver = Resolver(None, [root])
    with pytest.raises(BadInput, match="leads outside that folder through a symlink"):
        resolver.script("f/escape/secret")
    with pytest.raises(BadInput, match="leads outside that folder through a symlink"):
        resolver.flow("f/escape/secret")


def test_a_symlinked_file_leading_out_of_the_root_is_refused(tree):
    root, outside = tree
    os.symlink(outside / "secret.py", root / "f" / "lib" / "evil.py")
    with pytest.raises(BadInput, match="f/lib/evil.py under .* leads outside"):
        Resolver(None, [root]).script("f/lib/evil")


def test_a_symlink_that_stays_inside_the_root_is_followed(tree):
    root, _ = tree
    os.symlink(root / "f" / "lib", root / "f" / "alias")
    assert Resolver(None, [root]).script("f/alias/double")[0] == "python3"


def test_a_root_that_is_itself_a_symlink_works(tree, tmp_path):
    root, _ = tree
    os.symlink(root, tmp_path / "linked_root")
    assert Resolver(None, [tmp_path / "linked_root"]).script("f/lib/double")[0] == "python3"


def test_a_missing_script_is_not_found(tree):
    root, _ = tree
    with pytest.raises(NotFound, match="f/lib/none"):
        Resolver(None, [root]).script("f/lib/none")


@pytest.mark.parametrize("path", ["../outside/secret", "/etc/passwd", "f/lib/../../outside/secret"])
def test_a_run_with_a_hostile_script_step_fails_that_step_and_reads_nothing(harness, tree, path):
    root, _ = tree
    engine = harness.new(script_roots=[root])
    document = flow({"id": "evil", "value": {"type": "script", "path": path, "input_transforms": {}}})
    outcome = harness.run(document, engine=engine)
    assert outcome.status == "failure"
    error = outcome.result["error"]
    assert (error["name"], error["step_id"]) == ("ItemPathError", "evil")
    assert f"script path {path!r} is invalid" in error["message"]
    assert "secret file was read" not in str(outcome.result)


def test_the_cli_refuses_a_flow_whose_script_step_names_a_file_outside(tree, tmp_path):
    root, _ = tree
    step = {"id": "evil", "value": {"type": "script", "path": "../outside/secret", "input_transforms": {}}}
    (root / "evil.json").write_text(json.dumps(flow(step)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-m", "engine", "run", "evil.json"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "value.modules[0].value.path: script path '../outside/secret' is invalid" in done.stderr
    assert "secret file was read" not in done.stdout + done.stderr
