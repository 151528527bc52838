"""The app's own tables, beside the engine's: API tokens, users, the audit log, small settings,
browser sessions, login failures, approval requests and webhook deliveries.

They live in the store's database and are made and changed by its migrations
(engine/store/migrations/); the app reaches them through the store (`app.services.transactions`).
"""

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


class ApprovalRequest(SQLModel, table=True):
    """Links for a named approver were asked for: the request is in that approver's inbox."""

    __tablename__ = "app_approval_requests"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    resume_id: str
    approver: str
    asked_by: str
    """Who asked: an admin's name, or "run <id>" for a flow's own token."""
    at: float


class WebhookDelivery(SQLModel, table=True):
    """A signed webhook delivery id already used for a flow: a replay of it is refused."""

    __tablename__ = "app_webhook_deliveries"

    path: str = Field(primary_key=True)
    delivery: str = Field(primary_key=True)
    at: float = Field(index=True)
    """When it was seen; rows older than the replay window are deleted."""



class WebSession(SQLModel, table=True):
    """One logged-in browser: whose it is and until when, under the hash of its secret."""

    __tablename__ = "app_sessions"

    secret_hash: str = Field(primary_key=True)
    username: str = Field(index=True)
    created_at: float
    expires_at: float


class LoginFailures(SQLModel, table=True):
    """The recent failed logins of one key ("user:<name>" or "addr:<address>")."""

    __tablename__ = "app_login_failures"

    key: str = Field(primary_key=True)
    failures: int = 0
    last_at: float = 0.0
