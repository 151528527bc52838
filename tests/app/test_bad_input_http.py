"""Bad input over HTTP against the running app: bodies over the limit get 413, YAML alias
bombs and bad paths get a clear 400, and no error echoes a large input back."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Iterable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.app.apikit import DOUBLE, W, ensure_flow, flow_body, py_step
from tests.app.server import PORTS, Server, ensure_frontend, free_port, start, stop
from tests.engine.test_openflow_yaml_bounds import billion_laughs

LIMIT = 16 * 1024 * 1024
"""MILLRACE_MAX_BODY_BYTES's default."""
YAML = {"Content-Type": "application/yaml"}

ENDPOINTS = [
    f"{W}/flows/create",
    f"{W}/flows/update/f/tests/double",
    f"{W}/scripts/create",
    f"{W}/jobs/run/f/f/tests/double",
    f"{W}/jobs/run_wait_result/p/f/tests/nothing",
    f"{W}/variables/create",
    f"{W}/resources/create",
    f"{W}/schedules/create",
    f"{W}/jobs_u/resume/run/resume/signature",
    "/api/users/create",
    "/api/auth/login",
    "/api/demo/expenses",
    "/_upload",
]
"""A sample of every kind of POST route: the REST API (with and without a token), the
open demo API, and Reflex's own upload endpoint."""


def raw_post(url: str, path: str, token: str, headers: dict[str, str], chunks: Iterable[bytes] = ()) -> tuple[int, str]:
    """POST over a plain socket: the request head, then `chunks` as they are (the caller
    frames them); returns the status and body of the answer."""
    where = urlsplit(url)
    lines = [f"POST {path} HTTP/1.1", f"Host: {where.netloc}", f"Authorization: Bearer {token}",
             "Content-Type: application/json", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall("\r\n".join(lines).encode())
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the answer came before the rest of the body: read it
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode(errors="replace")


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def chunked(total: int, size: int = 1 << 20) -> Iterable[bytes]:
    """`total` bytes of a JSON string as HTTP/1.1 chunks, then the last chunk."""
    sent = 0
    while sent < total:
        part = b'"' + b"a" * (min(size, total - sent) - 1) if sent == 0 else b"a" * min(size, total - sent)
        yield f"{len(part):x}\r\n".encode() + part + b"\r\n"
        sent += len(part)
    yield b"0\r\n\r\n"


def peak_rss_kib(pid: int) -> int:
    """The largest peak resident size (VmHWM) among `pid` and its descendants."""
    peak, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except FileNotFoundError:
            continue
        line = next((ln for ln in status.splitlines() if ln.startswith("VmHWM:")), "VmHWM: 0 kB")
        peak = max(peak, int(line.split()[1]))
        pending += [int(child) for child in children]
    return peak


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_declared_body_over_the_limit_gets_413_before_it_is_sent(app_server, path):
    started = time.monotonic()
    status, text = raw_post(app_server.url, path, app_server.token, {"Content-Length": str(LIMIT + 1)})
    assert time.monotonic() - started < 5  # answered without waiting for 16 MiB that never come
    assert status == 413
    assert text == f"request body too large: the limit is {LIMIT} bytes (MILLRACE_MAX_BODY_BYTES)"


@pytest.mark.parametrize("path", [f"{W}/flows/create", f"{W}/jobs/run/f/f/tests/double", "/api/demo/expenses"])
def test_a_chunked_body_without_length_is_cut_off_at_the_limit(app_server, api, path):
    ensure_flow(api, DOUBLE)
    status, text = raw_post(app_server.url, path, app_server.token, {"Transfer-Encoding": "chunked"},
                            chunked(LIMIT + 4096))
    assert (status, text.startswith("request body too large")) == (413, True)


def test_a_chunked_body_under_the_limit_is_read_as_usual(app_server):
    status, text = raw_post(app_server.url, f"{W}/flows/create", app_server.token,
                            {"Transfer-Encoding": "chunked"}, chunked(3 * 1024 * 1024))
    assert status == 400
    assert text.startswith("request body is not JSON")


@pytest.mark.parametrize("content, message", [
    (b"[1, 2", "request body is not JSON: Expecting ',' delimiter"),
    (b'{"path": "\xff\xfe"}', "request body is not JSON: it is not UTF-8 text"),
    (b"[" * 100_000 + b"]" * 100_000, "request body is nested too deeply"),
    (b"[1, 2]", "the request body must be a JSON object, not list"),
])
def test_a_body_that_is_not_a_json_object_is_a_clear_400(api, content, message):
    for url in (f"{W}/flows/create", f"{W}/scripts/create", f"{W}/schedules/create"):
        response = api.post(url, content=content, headers={"Content-Type": "application/json"})
        assert (response.status_code, response.text) == (400, message)


def test_a_yaml_body_creates_a_flow(api):
    text = """\
path: f/tests/from_yaml
summary: made from YAML
value:
  modules:
    - id: a
      value: {type: rawscript, language: bash, content: "echo 1", input_transforms: {}}
"""
    response = api.post(f"{W}/flows/create", content=text, headers=YAML)
    assert response.status_code == 201, response.text
    assert api.get(f"{W}/flows/get/f/tests/from_yaml").json()["summary"] == "made from YAML"


def test_a_yaml_alias_bomb_is_refused_quickly_and_the_app_does_not_grow(app_server, api):
    text = "path: f/tests/laughs\n" + billion_laughs()
    before = peak_rss_kib(app_server.process.pid)
    started = time.monotonic()
    response = api.post(f"{W}/flows/create", content=text, headers=YAML)
    elapsed = time.monotonic() - started
    assert response.status_code == 400
    assert response.text.startswith("request body:3: invalid YAML: its aliases expand")
    assert elapsed < 1.0
    assert peak_rss_kib(app_server.process.pid) - before < 50_000
    assert api.get(f"{W}/flows/exists/f/tests/laughs").json() is False


@pytest.mark.parametrize("path, problem", [
    ("f/tests/../x", "segment 3 is '..'"),
    ("/etc/passwd", "it must start with u/ (a user) or f/ (a folder)"),
    ("f/tests", "it needs an owner and a name after f/"),
])
def test_a_bad_path_is_refused_naming_it(api, path, problem):
    body = flow_body(path, [py_step("a", "def main():\n    return 1\n")])
    response = api.post(f"{W}/flows/create", json=body)
    assert response.status_code == 400
    assert response.text == f"flow path {path!r} is invalid: {problem}; " \
        "a path looks like u/<user>/<name> or f/<folder>/<name>"
    script = api.post(f"{W}/scripts/create", json={"path": path, "language": "bash", "content": "echo 1"})
    assert (script.status_code, script.text.startswith(f"script path {path!r} is invalid")) == (400, True)
    variable = api.post(f"{W}/variables/create", json={"path": path, "value": "v"})
    assert (variable.status_code, variable.text.startswith(f"variable path {path!r} is invalid")) == (400, True)
    resource = api.post(f"{W}/resources/create", json={"path": path, "value": {}, "resource_type": "any"})
    assert (resource.status_code, resource.text.startswith(f"resource path {path!r} is invalid")) == (400, True)


def test_a_script_step_naming_a_file_on_disk_is_refused(api):
    step = {"id": "evil", "value": {"type": "script", "path": "../../../etc/passwd", "input_transforms": {}}}
    response = api.post(f"{W}/flows/create", json=flow_body("f/tests/evil", [step]))
    assert response.status_code == 400
    assert "value.modules[0].value.path: script path '../../../etc/passwd' is invalid" in response.text
    assert api.get(f"{W}/flows/exists/f/tests/evil").json() is False


def test_an_inline_file_name_over_rest_is_refused_saying_what_rest_takes(api):
    step = {"id": "a", "value": {"type": "rawscript", "language": "bun", "content": "!inline a.inline_script.ts",
                                 "input_transforms": {}}}
    response = api.post(f"{W}/flows/create", json=flow_body("f/tests/inline", [step]))
    assert response.status_code == 400
    assert ("value.modules[0].value.content: '!inline a.inline_script.ts' names a file, but the flow came "
            "without its files: put the file's text in the field instead") in response.text
    assert api.get(f"{W}/flows/exists/f/tests/inline").json() is False


def test_errors_never_echo_a_large_input_back(api):
    path = ensure_flow(api, DOUBLE)
    huge = "A" * 1_000_000
    answers = [
        api.post(f"{W}/jobs/run_wait_result/f/{path}", json={"x": huge}),
        api.post(f"{W}/flows/create", json=flow_body("f/" + huge, [])),
        api.post(f"{W}/flows/create", json=flow_body("f/tests/big_expr", [py_step("a", "def main(x):\n    return x\n",
                                                                                  x=huge[:100_000] + " +")])),
        api.post(f"{W}/flows/create", content="{" + huge, headers={"Content-Type": "application/json"}),
        api.post(f"{W}/flows/create", content="value: [" + huge, headers=YAML),
        api.post(f"{W}/jobs/run_wait_result/f/{path}", params={"timeout": huge[:4000]}, json={"x": 1}),
    ]
    for response in answers:
        assert response.status_code == 400, response.text[:200]
        assert len(response.text) < 2200, response.text[:200]
    assert "args.x" in answers[0].text


@pytest.fixture(scope="module")
def small_limit_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second app with MILLRACE_MAX_BODY_BYTES=2000 (REST only: it mounts the session's build)."""
    ensure_frontend(PORTS[0])
    server = start(free_port(), tmp_path_factory.mktemp("small_limit"), env={"MILLRACE_MAX_BODY_BYTES": "2000"},
                   web_port=PORTS[0])
    try:
        yield server
    finally:
        stop(server)


def test_the_limit_is_set_by_millrace_max_body_bytes(small_limit_app):
    headers = {"Authorization": f"Bearer {small_limit_app.token}"}
    with httpx.Client(base_url=small_limit_app.url, headers=headers, timeout=30) as client:
        fits = client.post(f"{W}/flows/create", json=flow_body("f/tests/fits", [], {"n": {"description": "x" * 500}}))
        assert fits.status_code == 201, fits.text
        too_big = client.post(f"{W}/flows/create", json=flow_body("f/tests/big", [], {"n": {"description": "x" * 3000}}))
        assert too_big.status_code == 413
        assert too_big.text == "request body too large: the limit is 2000 bytes (MILLRACE_MAX_BODY_BYTES)"
        streamed = client.post(f"{W}/flows/create", content=iter([b'{"path": "', b"x" * 1500, b"x" * 1500, b'"}']))
        assert streamed.status_code == 413


def test_a_bad_limit_is_refused_with_its_name(monkeypatch):
    from app import settings

    monkeypatch.setenv("MILLRACE_MAX_BODY_BYTES", "lots")
    with pytest.raises(ValueError, match="MILLRACE_MAX_BODY_BYTES must be a positive whole number of bytes, not 'lots'"):
        settings.max_body_bytes()
