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
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from sqlalchemy import delete
from sqlmodel import Session
from starlette.requests import cookie_parser

from app.services.auth import hash_token
from app.services.models import ApiToken, User, WebSession
from app.services.transactions import reads, writes

COOKIE = "millrace_session"
LIFETIME_SECONDS = 14 * 86_400
LEGACY_LABEL = "session"
"""Web logins used to be API tokens with this label (`forget_legacy_sessions`)."""


class Sessions:
    """Start, look up and end browser sessions in the store's database.

    Args:
        store: the engine's Store.
        clock: where "now" comes from.
    """

    def __init__(self, store: Any, clock: Callable[[], float] = time.time):
        self.store = store
        self.clock = clock

    def start(self, username: str) -> str:
        """A new session of `username`; its secret (to set in the cookie, never stored)."""
        secret = secrets.token_urlsafe(32)
        now = self.clock()
        self._add(WebSession(secret_hash=hash_token(secret), username=username, created_at=now,
                             expires_at=now + LIFETIME_SECONDS))
        return secret

    @writes
    def _add(self, session: Session, row: WebSession) -> None:
        session.add(row)

    def user(self, secret: str) -> User | None:
        """The user of a live session, or None (no secret, unknown, expired, user gone)."""
        if not secret:
            return None
        row, user = self._lookup(hash_token(secret))
        if row is not None and row.expires_at <= self.clock():
            self._forget(row.secret_hash)
            return None
        return user

    @reads
    def _lookup(self, session: Session, secret_hash: str) -> tuple[WebSession | None, User | None]:
        # Every web event asks: a read that takes no lock, a write only for an expired session.
        row = session.get(WebSession, secret_hash)
        return row, (session.get(User, row.username) if row is not None else None)

    def end(self, secret: str) -> None:
        """Forget the session (logging out); an unknown secret is ignored."""
        if secret:
            self._forget(hash_token(secret))

    @writes
    def _forget(self, session: Session, secret_hash: str) -> None:
        row = session.get(WebSession, secret_hash)
        if row is not None:
            session.delete(row)


def forget_legacy_sessions(store: Any) -> None:
    """Delete the API tokens that web logins made before sessions had their own table:
    left in place, each would stay a REST token that no one knows they hold."""
    store.transact(lambda session: session.exec(delete(ApiToken).where(ApiToken.label == LEGACY_LABEL)))


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
