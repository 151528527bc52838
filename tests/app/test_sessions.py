"""Browser sessions in their table, the Origin rule, and the old session tokens' removal."""

from __future__ import annotations

from typing import Iterator

import pytest

from engine import FakeClock, Store

from app.services.accounts import ADMIN, Accounts
from app.services.auth import Credentials
from app.services.sessions import LIFETIME_SECONDS, LEGACY_LABEL, Sessions, secret_from



@pytest.fixture
def credentials(tmp_path) -> Iterator[Credentials]:
    store = Store.open(tmp_path / "app.db")
    yield Credentials(store)
    store.close()


def test_a_session_lives_until_it_expires_or_ends(credentials) -> None:
    Accounts(credentials).create_user("ann", "ann-password", ADMIN)
    clock = FakeClock()
    sessions = Sessions(credentials.store, clock.now)
    first, second = sessions.start("ann"), sessions.start("ann")
    assert first != second and sessions.user(first).username == "ann"
    assert credentials.verify(first) is None  # no API token
    sessions.end(first)
    assert sessions.user(first) is None and sessions.user(second) is not None
    clock.advance(LIFETIME_SECONDS)
    assert sessions.user(second) is None


def test_a_session_of_a_deleted_user_is_nobodys(credentials) -> None:
    from app.services.models import User

    Accounts(credentials).create_user("bob", "bob-password")
    sessions = Sessions(credentials.store)
    secret = sessions.start("bob")
    credentials.store.transact(lambda session: session.delete(session.get(User, "bob")))
    assert sessions.user(secret) is None


def test_the_cookie_counts_only_from_the_origin_the_request_reached() -> None:
    cookie = "other=1; millrace_session=s3cret"
    assert secret_from({"cookie": cookie, "host": "app.example:3000"}) == "s3cret"
    assert secret_from({"cookie": cookie, "host": "app.example:3000", "origin": "http://app.example:3000"}) == "s3cret"
    assert secret_from({"cookie": cookie, "host": "app.example:3000", "origin": "http://app.example:4000"}) == ""
    assert secret_from({"cookie": cookie, "host": "app.example:3000", "origin": "https://evil.example"}) == ""
    assert secret_from({"cookie": cookie, "host": "app:3000", "x-forwarded-host": "millrace.example.com",
                        "origin": "https://millrace.example.com"}) == "s3cret"
    assert secret_from({"cookie": cookie, "host": "app.example", "origin": "null"}) == ""


def test_login_tokens_of_the_old_kind_are_deleted_once(credentials) -> None:
    credentials.register("old-web-login", LEGACY_LABEL, owner="admin")
    credentials.register("ci-token", "ci", owner="admin")
    Accounts(credentials)
    assert credentials.verify("old-web-login") is None and credentials.verify("ci-token") is not None
    credentials.register("named-session-later", LEGACY_LABEL, owner="admin")
    Accounts(credentials)  # a later start keeps tokens that merely carry the label
    assert credentials.verify("named-session-later") is not None
