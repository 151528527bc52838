"""API tokens (stored hashed) and the app's small named settings.

The first start creates an admin token and prints it once; `MILLRACE_TOKEN` in the
environment registers that token instead, so scripts and CI can know it in advance.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from app.services.models import ApiToken, AppSetting
from app.services.transactions import reads, writes

TOKEN_PREFIX_LENGTH = 10
"""As in Windmill: a token is listed and deleted by its first ten characters."""


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


class Credentials:
    """Tokens and small settings, in the app's tables of the store's database.

    Args:
        store: the engine's Store (not the masked one the app shows runs through).
    """

    def __init__(self, store: Any):
        self.store = store

    @writes
    def register(self, session: Session, token: str, label: str, owner: str = "admin", is_admin: bool = True) -> None:
        """Accept `token` from now on (idempotent)."""
        if session.get(ApiToken, hash_token(token)) is None:
            session.add(ApiToken(token_hash=hash_token(token), label=label, owner=owner, is_admin=is_admin,
                                 created_at=time.time(), prefix=token[:TOKEN_PREFIX_LENGTH]))

    @reads
    def verify(self, session: Session, token: str) -> ApiToken | None:
        """The token's record when it is known, else None."""
        return session.get(ApiToken, hash_token(token))

    @reads
    def count(self, session: Session) -> int:
        return session.exec(select(func.count()).select_from(ApiToken)).scalar_one()

    @writes
    def first_time(self, session: Session, key: str) -> bool:
        """True the first time it is asked for `key` in this database, then False."""
        if session.get(AppSetting, key) is not None:
            return False
        session.add(AppSetting(key=key, value=str(time.time())))
        return True

    @reads
    def setting(self, session: Session, key: str) -> str | None:
        """A value the app keeps under `key` (app_settings), None when there is none."""
        row = session.get(AppSetting, key)
        return row.value if row is not None and row.value else None

    @writes
    def set_setting(self, session: Session, key: str, value: str | None) -> None:
        """Keep `value` under `key`; None or "" removes it."""
        row = session.get(AppSetting, key)
        if value:
            session.add(AppSetting(key=key, value=value) if row is None else _changed(row, value))
        elif row is not None:
            session.delete(row)


def _changed(row: AppSetting, value: str) -> AppSetting:
    row.value = value
    return row


def bootstrap_admin(credentials: Credentials) -> str | None:
    """Register MILLRACE_TOKEN, or create an admin token on first start.

    Returns:
        The newly generated token (to print once), or None when none was created.
    """
    given = os.environ.get("MILLRACE_TOKEN")
    if given:
        credentials.register(given, "MILLRACE_TOKEN")
        return None
    if credentials.count() > 0:
        return None
    token = secrets.token_urlsafe(24)
    credentials.register(token, "first start")
    return token

