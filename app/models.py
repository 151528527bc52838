"""The app's own tables, beside the engine's: API tokens, users, the audit log, small settings."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class ApiToken(SQLModel, table=True):
    """A REST API token, stored only as its SHA-256 hash."""

    __tablename__ = "app_tokens"

    token_hash: str = Field(primary_key=True)
    label: str = ""
    owner: str = "admin"
    is_admin: bool = True
    created_at: float
    prefix: str = ""
    """The token's first characters, shown in lists and used to delete it."""


class AppSetting(SQLModel, table=True):
    """One named value the app keeps between starts (e.g. the approval-link secret)."""

    __tablename__ = "app_settings"

    key: str = Field(primary_key=True)
    value: str


class User(SQLModel, table=True):
    """A person who logs in; the password is kept only as a salted scrypt hash."""

    __tablename__ = "app_users"

    username: str = Field(primary_key=True)
    role: str = "operator"
    """"admin" (may change anything) or "operator" (may run, resume and read)."""
    password_hash: str
    salt: str
    created_at: float


class AuditEntry(SQLModel, table=True):
    """One thing someone did: who, what, on what, when."""

    __tablename__ = "app_audit"

    id: int | None = Field(default=None, primary_key=True)
    at: float = Field(index=True)
    actor: str
    action: str
    """e.g. run.started, approval.decided, flow.saved, flow.deleted, token.created, user.created, login."""
    target: str = ""
    detail: str = ""


APP_TABLES = [ApiToken.__table__, AppSetting.__table__, User.__table__, AuditEntry.__table__]
