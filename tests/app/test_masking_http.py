"""Secrets are masked in what the REST API serves of a run: results, errors, stacks."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from tests.app.apikit import W, flow_body, wait_status

SECRET = "rest-s3cr3t-7a1c"
VARIABLE = "u/admin/masking_rest_pw"
LEAK = (
    "import sys\n"
    "def main(x):\n"
    "    print('out', x)\n"
    "    print('err', x, file=sys.stderr)\n"
    "    return {'value': x, 'note': 'the password is ' + x}\n"
)
DIGEST = "import hashlib\ndef main(v):\n    return hashlib.sha256(v.encode()).hexdigest()\n"
BOTH = "def main(leak, digest):\n    return {'leak': leak, 'digest': digest}\n"
FAIL = "def main(x):\n    raise RuntimeError('cannot log in with ' + x)\n"


def _step(step_id: str, code: str, **inputs: Any) -> dict[str, Any]:
    return {"id": step_id, "value": {"type": "rawscript", "language": "python3", "content": code,
                                     "input_transforms": inputs}}


def _secret_input() -> dict[str, Any]:
    return {"type": "static", "value": f"$var:{VARIABLE}"}


def _setup(api: httpx.Client) -> None:
    if api.get(f"{W}/variables/exists/{VARIABLE}").json() is not True:
        created = api.post(f"{W}/variables/create", json={"path": VARIABLE, "value": SECRET, "is_secret": True})
        assert created.status_code == 201, created.text
    flows = {
        "f/tests/leaky": [_step("leak", LEAK, x=_secret_input()),
                          _step("digest", DIGEST, v={"type": "javascript", "expr": "results.leak.value"}),
                          _step("both", BOTH, leak={"type": "javascript", "expr": "results.leak"},
                                digest={"type": "javascript", "expr": "results.digest"})],
        "f/tests/leaky_failure": [_step("login", FAIL, x=_secret_input())],
    }
    for path, modules in flows.items():
        if api.get(f"{W}/flows/exists/{path}").json() is not True:
            assert api.post(f"{W}/flows/create", json=flow_body(path, modules)).status_code == 201


def test_a_result_is_served_masked_while_the_next_step_got_the_real_value(api):
    _setup(api)
    waited = api.post(f"{W}/jobs/run_wait_result/f/f/tests/leaky", json={})
    assert waited.status_code == 200, waited.text
    assert waited.json() == {"leak": {"value": "***", "note": "the password is ***"},
                             "digest": hashlib.sha256(SECRET.encode()).hexdigest()}

    run_id = api.post(f"{W}/jobs/run/f/f/tests/leaky", json={}).text
    job = wait_status(api, run_id, {"success", "failure"})
    assert job["status"] == "success"
    served = [api.get(f"{W}/jobs_u/get/{run_id}").text,
              api.get(f"{W}/jobs_u/completed/get_result/{run_id}").text,
              api.get(f"{W}/jobs_u/completed/get_result_maybe/{run_id}").text]
    assert all(SECRET not in text and "the password is ***" in text for text in served)


def test_an_error_and_its_stack_are_served_masked(api):
    _setup(api)
    waited = api.post(f"{W}/jobs/run_wait_result/f/f/tests/leaky_failure", json={})
    assert waited.status_code == 500
    error = waited.json()["error"]
    assert error["message"] == "cannot log in with ***"
    assert SECRET not in error["stack"] and "***" in error["stack"]

    run_id = api.post(f"{W}/jobs/run/f/f/tests/leaky_failure", json={}).text
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "failure"
    for url in (f"{W}/jobs_u/get/{run_id}", f"{W}/jobs_u/completed/get_result/{run_id}"):
        text = api.get(url).text
        assert SECRET not in text and "cannot log in with ***" in text
