"""API tokens (stored hashed) and the app's small named settings.

The first start creates an admin token and prints it once; `MILLRACE_TOKEN` in the
environment registers that token instead, so scripts and CI can know it in advance.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time

from sqlalchemy import Engine, inspect, select, text
from sqlmodel import Session, SQLModel, create_engine

from app.models import APP_TABLES, ApiToken, AppSetting

TOKEN_PREFIX_LENGTH = 10
"""As in Windmill: a token is listed and deleted by its first ten characters."""


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


class Credentials:
    """Tokens and small settings, in the app's tables of the run database."""

    def __init__(self, url: str):
        if url.startswith("sqlite"):
            self.engine: Engine = create_engine(url, connect_args={"check_same_thread": False})
        else:
            # Pre-ping: after a PostgreSQL restart every pooled connection is dead.
            self.engine = create_engine(url, pool_pre_ping=True)
        SQLModel.metadata.create_all(self.engine, tables=APP_TABLES)
        _add_prefix_column(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def register(self, token: str, label: str, owner: str = "admin", is_admin: bool = True) -> None:
        """Accept `token` from now on (idempotent)."""
        with Session(self.engine) as session:
            if session.get(ApiToken, hash_token(token)) is None:
                session.add(ApiToken(token_hash=hash_token(token), label=label, owner=owner, is_admin=is_admin,
                                     created_at=time.time(), prefix=token[:TOKEN_PREFIX_LENGTH]))
                session.commit()

    def verify(self, token: str) -> ApiToken | None:
        """The token's record when it is known, else None."""
        with Session(self.engine) as session:
            return session.get(ApiToken, hash_token(token))

    def count(self) -> int:
        with Session(self.engine) as session:
            return len(session.exec(select(ApiToken.token_hash)).all())

    def first_time(self, key: str) -> bool:
        """True the first time it is asked for `key` in this database, then False."""
        with Session(self.engine) as session:
            if session.get(AppSetting, key) is not None:
                return False
            session.add(AppSetting(key=key, value=str(time.time())))
            session.commit()
            return True

    def setting(self, key: str) -> str | None:
        """A value the app keeps under `key` (app_settings), None when there is none."""
        with Session(self.engine) as session:
            row = session.get(AppSetting, key)
            return row.value if row is not None and row.value else None

    def set_setting(self, key: str, value: str | None) -> None:
        """Keep `value` under `key`; None or "" removes it."""
        with Session(self.engine) as session:
            row = session.get(AppSetting, key)
            if value:
                session.add(AppSetting(key=key, value=value) if row is None else _changed(row, value))
            elif row is not None:
                session.delete(row)
            session.commit()


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


def _add_prefix_column(engine: Engine) -> None:
    # app_tokens predates its `prefix` column; create_all does not add columns to a table.
    if "prefix" not in {column["name"] for column in inspect(engine).get_columns("app_tokens")}:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE app_tokens ADD COLUMN prefix VARCHAR DEFAULT ''"))
