"""Helpers for app tests that talk to the REST API: small flows, waiting for runs."""

from __future__ import annotations

import time
from typing import Any, Callable

import httpx

W = "/api/w/main"


def py_step(step_id: str, code: str, **inputs: str) -> dict[str, Any]:
    transforms = {name: {"type": "javascript", "expr": expr} for name, expr in inputs.items()}
    return {"id": step_id, "value": {"type": "rawscript", "language": "python3", "content": code,
                                     "input_transforms": transforms}}


def flow_body(path: str, modules: list[dict[str, Any]], properties: dict[str, Any] | None = None) -> dict[str, Any]:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": properties or {}, "required": sorted(properties or {})}
    return {"path": path, "summary": f"test flow {path}", "description": "", "value": {"modules": modules},
            "schema": schema}


DOUBLE = flow_body(
    "f/tests/double",
    [py_step("double", "def main(x: int):\n    print(f'doubling {x}')\n    return {'doubled': x * 2}\n",
             x="flow_input.x")],
    {"x": {"type": "integer"}},
)

APPROVAL = flow_body(
    "f/tests/approval",
    [
        {**py_step("ask", "def main():\n    return 'asked'\n"), "suspend": {"required_events": 1, "timeout": 600}},
        py_step("after", "def main(payload, approvers: list):\n    return {'payload': payload, 'by': approvers}\n",
                payload="resume", approvers="approvers"),
    ],
)


def ensure_flow(api: httpx.Client, body: dict[str, Any]) -> str:
    if api.get(f"{W}/flows/exists/{body['path']}").json() is not True:
        response = api.post(f"{W}/flows/create", json=body)
        assert response.status_code == 201, response.text
    return body["path"]


def wait_status(api: httpx.Client, run_id: str, statuses: set[str], timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = api.get(f"{W}/jobs_u/get/{run_id}").json()
        if job["status"] in statuses or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def new_user(api: httpx.Client, role: str, prefix: str = "u") -> tuple[str, str]:
    """A new user with `role`, logged in over REST: (username, their API token)."""
    import uuid

    name, password = f"{prefix}-{uuid.uuid4().hex[:6]}", "a-long-password"
    created = api.post("/api/users/create", json={"username": name, "password": password, "role": role})
    assert created.status_code == 201, created.text
    login = httpx.post(f"{api.base_url}/api/auth/login", json={"username": name, "password": password})
    assert login.status_code == 200, login.text
    return name, login.text


def client(api: httpx.Client, token: str) -> httpx.Client:
    """A client of the same app with another token."""
    return httpx.Client(base_url=str(api.base_url), headers={"Authorization": f"Bearer {token}"}, timeout=60)


def timed(call: Callable[[], Any], failed: float) -> float:
    """Seconds `call` took; `failed` when it returned something false or raised (an HTTP
    error, an AssertionError of a wait that gave up)."""
    began = time.monotonic()
    try:
        ok = call() is not False
    except (httpx.HTTPError, AssertionError):
        ok = False
    return time.monotonic() - began if ok else failed
