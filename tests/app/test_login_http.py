"""Logging in over HTTP: the session cookie, the throttle, the audit of failures, timing.

Failed logins here come from addresses of their own (any 127.x.y.z reaches the server
on loopback), so that the address throttle they trip never refuses the rest of the
session's tests, which log in from 127.0.0.1.
"""

from __future__ import annotations

import itertools
import random
import re
import statistics
import time
import uuid
from typing import Iterator

import httpx
import pytest

from tests.app.apikit import W
from tests.app.conftest import LOGIN_PATH, SESSION_COOKIE, log_in
from tests.app.eventsocket import EventSocket, redirects_to_login

_SUBNET = random.randrange(10, 250)
_HOSTS = itertools.count(1)


def fresh_address() -> str:
    """A loopback address no other test logs in from."""
    host = next(_HOSTS)
    return f"127.{_SUBNET}.{host // 250}.{host % 250 + 1}"


def client(app_server, address: str | None = None) -> httpx.Client:
    """A client of the app from `address` (a fresh one unless given)."""
    transport = httpx.HTTPTransport(local_address=address or fresh_address())
    return httpx.Client(base_url=app_server.url.replace("localhost", "127.0.0.1"), transport=transport, timeout=30)


def new_user(api: httpx.Client, password: str = "the-right-password") -> str:
    name = f"login-{uuid.uuid4().hex[:8]}"
    assert api.post("/api/users/create", json={"username": name, "password": password}).status_code == 201
    return name


def web_login(http: httpx.Client, username: str, password: str, next_path: str = "/",
              headers: dict[str, str] | None = None) -> httpx.Response:
    return http.post(LOGIN_PATH, data={"username": username, "password": password, "next": next_path},
                     headers=headers, follow_redirects=False)


def rest_login(http: httpx.Client, username: str, password: str) -> httpx.Response:
    return http.post("/api/auth/login", json={"username": username, "password": password})


@pytest.fixture
def http(app_server) -> Iterator[httpx.Client]:
    with client(app_server) as fresh:
        yield fresh


def test_a_login_sets_an_httponly_samesite_cookie_and_goes_where_asked(http, api) -> None:
    user = new_user(api)
    answer = web_login(http, user, "the-right-password", "/runs?status=failure")
    assert answer.status_code == 303 and answer.headers["location"] == "/runs?status=failure"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "path", "max-age"} <= attributes and "secure" not in attributes
    assert re.search(r"samesite=lax", cookie, re.I) and re.search(r"path=/(;|$)", cookie, re.I)


def test_over_https_the_cookie_is_secure(http, api) -> None:
    answer = web_login(http, new_user(api), "the-right-password", headers={"X-Forwarded-Proto": "https"})
    assert answer.status_code == 303
    assert "secure" in {part.strip().lower() for part in answer.headers["set-cookie"].split(";")}


def test_a_login_never_sends_the_browser_off_the_app(http, api) -> None:
    user = new_user(api)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        assert web_login(http, user, "the-right-password", target).headers["location"] == "/"


def test_a_wrong_password_goes_back_to_the_login_page_without_a_cookie(http, api) -> None:
    answer = web_login(http, new_user(api), "wrong password", "/flows")
    assert answer.status_code == 303 and answer.headers["location"] == "/login?failed=wrong&next=%2Fflows"
    assert "set-cookie" not in answer.headers


def test_a_login_posted_from_another_origin_is_refused(http, api) -> None:
    answer = web_login(http, new_user(api), "the-right-password", headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403 and "set-cookie" not in answer.headers


def test_log_out_ends_the_session_and_clears_the_cookie(app_server, http, api) -> None:
    secret = log_in(app_server.url, new_user(api), "the-right-password")
    http.cookies.set(SESSION_COOKIE, secret)
    answer = http.post("/api/session/logout", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert re.search(rf"{SESSION_COOKIE}=(\"\")?;.*max-age=0", answer.headers["set-cookie"], re.I)
    with EventSocket(app_server.url, session=secret) as socket:
        socket.send("reflex___state____state.app___states___flows____flows_state.load", page="/flows")
        socket.wait_until(lambda: socket.count(redirects_to_login) == 1, 10, "the refusal")


def test_five_failures_of_one_user_lock_it_with_a_growing_back_off(app_server, api) -> None:
    user = new_user(api)
    for _ in range(5):  # each from another address: only the user's count trips
        with client(app_server) as http:
            assert rest_login(http, user, "wrong password").status_code == 401
    waits = []
    for _ in range(3):
        with client(app_server) as http:
            refused = rest_login(http, user, "the-right-password")  # even the right password
        assert refused.status_code == 429, refused.text
        assert re.fullmatch(r"too many failed logins, try again in \d+ s", refused.text), refused.text
        waits.append(int(refused.headers["retry-after"]))
    assert waits[0] > 0 and waits == sorted(set(waits)), waits
    with client(app_server) as http:
        answer = web_login(http, user, "the-right-password", "/flows")
    assert re.fullmatch(r"/login\?failed=throttled&wait=\d+&next=%2Fflows", answer.headers["location"])
    assert "set-cookie" not in answer.headers


def test_five_failures_from_one_address_lock_that_address(app_server, api) -> None:
    address, user = fresh_address(), new_user(api)
    with client(app_server, address) as http:
        for _ in range(5):
            assert rest_login(http, f"nobody-{uuid.uuid4().hex[:6]}", "whatever").status_code == 401
        assert rest_login(http, user, "the-right-password").status_code == 429
    with client(app_server) as elsewhere:
        assert rest_login(elsewhere, user, "the-right-password").status_code == 200


def test_failed_logins_are_audited_with_the_name_tried_and_the_address(app_server, api) -> None:
    address, tried = fresh_address(), f"ghost-{uuid.uuid4().hex[:6]}"
    with client(app_server, address) as http:
        web_login(http, tried, "guess")
    entries = api.get(f"{W}/audit/list", params={"operation": "login.failed"}).json()
    mine = [e for e in entries if e["resource"] == tried]
    assert len(mine) == 1 and address in mine[0]["parameters"], mine


def test_an_unknown_user_takes_as_long_as_a_wrong_password(app_server, api) -> None:
    tries = 7
    known = [new_user(api) for _ in range(tries)]  # one each: no try is throttled
    wrong, unknown = [], []
    for name in known:
        wrong.append(_timed_failure(app_server, name))
        unknown.append(_timed_failure(app_server, f"nobody-{uuid.uuid4().hex[:8]}"))
    # Password hashing (scrypt) is most of a failed login; without it an unknown user
    # answers several times faster. The bound is loose for a loaded machine.
    assert statistics.median(unknown) > 0.5 * statistics.median(wrong), (wrong, unknown)


def _timed_failure(app_server, username: str) -> float:
    with client(app_server) as http:
        http.get("/api/version")  # connect first: time the login, not the handshake
        started = time.perf_counter()
        assert rest_login(http, username, "not the password").status_code == 401
        return time.perf_counter() - started
