"""Flows use variables and resources: `$var:`/`$res:` args, `variable()`/`resource()` in
expressions, and secret values masked in logs."""

from __future__ import annotations

import pytest

from engine.vault import Vault
from tests.flowkit import py

SECRET = "s3cr3t-value-42"
ECHO = "def main(x=None):\n    print('value is', x)\n    return x\n"


@pytest.fixture
def vault(harness, monkeypatch):
    monkeypatch.setenv("MILLRACE_SECRET_KEY", "test key")
    vault = Vault.of(harness.engine.store)
    vault.set_variable("u/admin/pw", SECRET, is_secret=True)
    vault.set_variable("u/admin/greeting", "hello")
    vault.set_resource("u/admin/api", {"base_url": "http://x", "token": "$var:u/admin/pw"}, "http")
    return vault


def _logs(harness, run_id):
    return [line.line for line in harness.engine.store.get_logs(run_id, limit=1000)]


def test_static_var_arg_is_resolved_and_masked_in_logs(harness, vault):
    result = harness.run({"modules": [py("a", ECHO, x="$var:u/admin/pw")]})
    assert result.status == "success" and result.result == SECRET
    lines = _logs(harness, result.run_id)
    assert "value is ***" in lines and not any(SECRET in line for line in lines)


def test_static_res_arg_is_the_interpolated_value(harness, vault):
    result = harness.run({"modules": [py("a", ECHO, x="$res:u/admin/api")]})
    assert result.result == {"base_url": "http://x", "token": SECRET}


def test_a_computed_reference_is_resolved_like_a_static_one(harness, vault):
    result = harness.run({"modules": [py("a", ECHO, x="js:'$res:' + 'u/admin/api'")]})
    assert result.result == {"base_url": "http://x", "token": SECRET}
    result = harness.run({"modules": [py("a", ECHO, x="js:['$res:u/admin/api']")]})
    assert result.result == ["$res:u/admin/api"]  # only a whole arg is a reference


def test_expressions_call_variable_and_resource(harness, vault):
    expr = "js:variable('u/admin/greeting') + ' ' + resource(\"u/admin/api\").base_url"
    result = harness.run({"modules": [py("a", ECHO, x=expr)]})
    assert result.result == "hello http://x"


def test_missing_variable_fails_the_step_naming_it(harness, vault):
    result = harness.run({"modules": [py("a", ECHO, x="js:variable('u/admin/none')")]})
    assert result.status == "failure"
    assert "u/admin/none" in result.error["message"] and result.error["step_id"] == "a"
    result = harness.run({"modules": [py("a", ECHO, x="$var:u/admin/none")]})
    assert result.status == "failure" and "u/admin/none" in result.error["message"]


def test_scripts_get_a_state_path(harness, vault):
    code = "import os\ndef main():\n    return os.environ['WM_STATE_PATH']\n"
    result = harness.run({"modules": [py("a", code)]}, path="f/demo/flow")
    assert result.result == "u/admin/state/f_demo_flow/a"
