"""Users (admin or operator), their API tokens, and the audit log of who did what.

Passwords are kept as salted scrypt hashes. A token belongs to a user; its role is the
user's role. Tokens without a user (MILLRACE_TOKEN, the first-start token) keep the
role they were registered with. Browser sessions are apart from tokens (`app.services.sessions`).
Every login, from the web page or REST, goes through `Accounts.login`: throttled,
audited, and as slow for an unknown user as for a wrong password.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.services.auth import Credentials
from app.services.models import ApiToken, AuditEntry, User
from app.services.sessions import Sessions, forget_legacy_sessions
from app.services.throttle import LoginThrottle, address_key, user_key
from app.services.transactions import reads, writes

ADMIN = "admin"
OPERATOR = "operator"
ROLES = (ADMIN, OPERATOR)
_NO_HASH = "0" * 128
"""What an unknown user's password is compared with (no scrypt output equals it)."""
_NO_SALT = secrets.token_bytes(16)
AUDITED_NAME_CHARS = 200


class AccountError(ValueError):
    """A user or token request that cannot be carried out (the message says why)."""


class LoginRefused(AccountError):
    """A login that failed; `wait` > 0 when it was refused for too many failures."""

    def __init__(self, message: str, wait: float = 0.0):
        super().__init__(message)
        self.wait = wait


def too_many(wait: float) -> str:
    """The message of a login refused by the throttle."""
    return f"too many failed logins, try again in {math.ceil(wait)} s"


@dataclass(frozen=True)
class Caller:
    """Who a request or a web session acts as."""

    username: str
    role: str
    run_id: str | None = None
    """Set when the caller is a run's own token (`WM_TOKEN`), acting for the run's starter."""

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


def hash_password(password: str, salt: bytes) -> str:
    """The stored form of a password: scrypt with the user's salt."""
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1).hex()


class Accounts:
    """Users, tokens and the audit log, in the app's tables of the store's database."""

    def __init__(self, credentials: Credentials):
        self.credentials = credentials
        self.store = credentials.store
        self.sessions = Sessions(self.store)
        if credentials.first_time("sessions apart from tokens"):
            forget_legacy_sessions(self.store)
        self.throttle = LoginThrottle(self.store)

    def create_user(self, username: str, password: str, role: str = OPERATOR) -> None:
        """Add a user.

        Raises:
            AccountError: the name is empty or taken, the password too short, the role unknown.
        """
        username = username.strip()
        if not username:
            raise AccountError("a user needs a username")
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if len(password) < 8:
            raise AccountError("a password needs at least 8 characters")
        salt = secrets.token_bytes(16)
        self._add_user(User(username=username, role=role, password_hash=hash_password(password, salt),
                            salt=salt.hex(), created_at=time.time()))

    @writes
    def _add_user(self, session: Session, user: User) -> None:
        if session.get(User, user.username) is not None:
            raise AccountError(f"user {user.username!r} exists already")
        session.add(user)

    @reads
    def user(self, session: Session, username: str) -> User | None:
        """The user called `username`, or None."""
        return session.get(User, username)

    def check_password(self, username: str, password: str) -> Caller | None:
        """The user when the password is theirs, else None.

        An unknown user costs one scrypt too, so the time taken does not tell whether
        the username exists.
        """
        user = self.user(username.strip())
        salt, stored = (bytes.fromhex(user.salt), user.password_hash) if user is not None else (_NO_SALT, _NO_HASH)
        matches = hmac.compare_digest(hash_password(password, salt), stored)
        return Caller(user.username, user.role) if user is not None and matches else None

    def login(self, username: str, password: str, address: str, via: str) -> Caller:
        """The user, after a successful login from `address` through `via` ("web", "api").

        Raises:
            LoginRefused: wrong username or password, or too many failures of this user
                or address lately (then nothing is checked; the refusal counts as a failure).
        """
        keys = [user_key(username), address_key(address)]
        if self.throttle.wait(keys) > 0:
            wait = self.throttle.failed(keys)
            self._audit_failure(username, address, "refused: too many failed logins")
            raise LoginRefused(too_many(wait), wait)
        who = self.check_password(username, password)
        if who is None:
            self.throttle.failed(keys)
            self._audit_failure(username, address, "wrong username or password")
            raise LoginRefused("wrong username or password")
        self.throttle.succeeded(keys[0])
        self.record(who.username, "login", via, f"from {address}")
        return who

    def _audit_failure(self, username: str, address: str, why: str) -> None:
        self.record("anonymous", "login.failed", username.strip()[:AUDITED_NAME_CHARS], f"from {address}: {why}")

    def session_caller(self, secret: str) -> Caller | None:
        """Who a browser session acts as, or None (no session, or not a live one)."""
        user = self.sessions.user(secret)
        return Caller(user.username, user.role) if user is not None else None

    @reads
    def list_users(self, session: Session) -> list[dict[str, Any]]:
        users = session.exec(select(User).order_by(User.username)).scalars().all()
        return [{"username": u.username, "role": u.role, "is_admin": u.role == ADMIN, "created_at": u.created_at}
                for u in users]

    @reads
    def has_users(self, session: Session) -> bool:
        return session.exec(select(User.username).limit(1)).first() is not None

    def caller(self, token: str) -> Caller | None:
        """Who a token acts as, or None for an unknown token."""
        record = self.credentials.verify(token) if token else None
        if record is None:
            return None
        user = self.user(record.owner)
        if user is not None:
            return Caller(user.username, user.role)
        return Caller(record.owner, ADMIN if record.is_admin else OPERATOR)

    def create_token(self, owner: Caller, label: str = "") -> str:
        """A new token for `owner`; the only time its secret is seen."""
        token = secrets.token_urlsafe(24)
        self.credentials.register(token, label or "token", owner=owner.username, is_admin=owner.is_admin)
        return token

    @reads
    def list_tokens(self, session: Session, owner: str | None = None) -> list[dict[str, Any]]:
        """Tokens without their secrets (all of them, or `owner`'s), newest first."""
        query = select(ApiToken).order_by(ApiToken.created_at.desc())
        if owner is not None:
            query = query.where(ApiToken.owner == owner)
        rows = session.exec(query).scalars().all()
        return [{"token_prefix": row.prefix, "label": row.label, "owner": row.owner,
                 "created_at": row.created_at} for row in rows]

    @writes
    def delete_token(self, session: Session, prefix: str) -> None:
        """Delete the one token starting with `prefix`.

        Raises:
            AccountError: no token, or more than one, has that prefix.
        """
        rows = session.exec(select(ApiToken).where(ApiToken.prefix == prefix)).scalars().all()
        if len(rows) != 1 or not prefix:
            raise AccountError(f"no single token with prefix {prefix!r} ({len(rows)} match)")
        session.delete(rows[0])

    @writes
    def record(self, session: Session, actor: str, action: str, target: str = "", detail: str = "") -> None:
        """Add an entry to the audit log."""
        session.add(AuditEntry(at=time.time(), actor=actor, action=action, target=target, detail=detail))

    @reads
    def audit(self, session: Session, limit: int = 200, action: str | None = None) -> list[dict[str, Any]]:
        """The latest audit entries, newest first."""
        query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
        if action:
            query = query.where(AuditEntry.action == action)
        rows = session.exec(query).scalars().all()
        return [{"id": r.id, "at": r.at, "actor": r.actor, "action": r.action, "target": r.target,
                 "detail": r.detail} for r in rows]


def bootstrap_admin_user(accounts: Accounts) -> str | None:
    """Create the user `admin` on first start: MILLRACE_ADMIN_PASSWORD, else a generated one.

    Returns:
        The generated password (to print once), or None when none was generated.
    """
    if accounts.has_users():
        return None
    given = os.environ.get("MILLRACE_ADMIN_PASSWORD")
    password = given or secrets.token_urlsafe(12)
    accounts.create_user(ADMIN, password, ADMIN)
    return None if given else password
