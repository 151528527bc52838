"""Browser sessions: a secret in an HttpOnly cookie, kept server-side as its hash.

A session is not an API token: sessions live in their own table, so a session secret
is unknown to `TokenAuth` (REST answers 401) and an API token put in the session cookie
is unknown here. The secret travels only in the cookie the login endpoint sets; the web
app reads it from the headers of the websocket handshake, and only when the handshake
came from the app's own origin (a page of another site or port cannot borrow it).
"""

from __future__ import annotations

import secrets
import time
from typing import Callable, Mapping
from urllib.parse import urlsplit

from sqlalchemy import Engine, delete
from sqlmodel import Field, Session, SQLModel
from starlette.requests import cookie_parser

from app.auth import hash_token
from app.models import ApiToken, User

COOKIE = "millrace_session"
LIFETIME_SECONDS = 14 * 86_400
LEGACY_LABEL = "session"
"""Web logins used to be API tokens with this label (`forget_legacy_sessions`)."""


class WebSession(SQLModel, table=True):
    """One logged-in browser: whose it is and until when, under the hash of its secret."""

    __tablename__ = "app_sessions"

    secret_hash: str = Field(primary_key=True)
    username: str = Field(index=True)
    created_at: float
    expires_at: float


class Sessions:
    """Start, look up and end browser sessions in the app's database."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time):
        self.engine = engine
        self.clock = clock
        SQLModel.metadata.create_all(engine, tables=[WebSession.__table__])

    def start(self, username: str) -> str:
        """A new session of `username`; its secret (to set in the cookie, never stored)."""
        secret = secrets.token_urlsafe(32)
        now = self.clock()
        with Session(self.engine) as session:
            session.add(WebSession(secret_hash=hash_token(secret), username=username, created_at=now,
                                   expires_at=now + LIFETIME_SECONDS))
            session.commit()
        return secret

    def user(self, secret: str) -> User | None:
        """The user of a live session, or None (no secret, unknown, expired, user gone)."""
        if not secret:
            return None
        with Session(self.engine) as session:
            row = session.get(WebSession, hash_token(secret))
            if row is None:
                return None
            if row.expires_at <= self.clock():
                session.delete(row)
                session.commit()
                return None
            return session.get(User, row.username)

    def end(self, secret: str) -> None:
        """Forget the session (logging out); an unknown secret is ignored."""
        if not secret:
            return
        with Session(self.engine) as session:
            row = session.get(WebSession, hash_token(secret))
            if row is not None:
                session.delete(row)
                session.commit()


def forget_legacy_sessions(engine: Engine) -> None:
    """Delete the API tokens that web logins made before sessions had their own table:
    left in place, each would stay a REST token that no one knows they hold."""
    with Session(engine) as session:
        session.exec(delete(ApiToken).where(ApiToken.label == LEGACY_LABEL))
        session.commit()


def secret_from(headers: Mapping[str, str]) -> str:
    """The session secret a browser sent (lower-case header names), or "".

    "" also when the request names another origin than the one it reached: a page of
    another site, or another port of this host, must not act with the user's cookie.
    """
    if not same_origin(headers):
        return ""
    return cookie_parser(headers.get("cookie", "")).get(COOKIE, "")


def same_origin(headers: Mapping[str, str]) -> bool:
    """Whether the `Origin` header, when there is one, names the host the request reached.

    Behind a reverse proxy the host is `X-Forwarded-Host` when the proxy sets it.
    """
    origin = headers.get("origin")
    if not origin:
        return True
    reached = {headers.get("host", ""), headers.get("x-forwarded-host", "").split(",")[0].strip()} - {""}
    return urlsplit(origin).netloc in reached
