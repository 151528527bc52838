"""Webhook secrets: a flow may require its webhook calls to be signed, fresh and new.

The secret is kept per flow path (in the app's settings table). When a flow has one, a
request that starts it must carry three headers:

    X-Millrace-Timestamp: <Unix time in whole seconds when it was sent>
    X-Millrace-Delivery:  <an id the sender makes unique: 1-128 of A-Z a-z 0-9 . _ : ->
    X-Millrace-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<delivery>.<raw body>")>

A missing or wrong header, a timestamp more than `WINDOW_SECONDS` away from the
server's clock, or a delivery id the flow has already received is refused with 401 and
nothing runs (REST to set the secret: `app.rest.webhook_secret_api`). Delivery ids are kept in the database (so every app process sees them)
for twice the window: an older replay is refused by its timestamp already.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.services.models import WebhookDelivery
from engine import Signer

SIGNATURE_HEADER = "X-Millrace-Signature"
TIMESTAMP_HEADER = "X-Millrace-Timestamp"
DELIVERY_HEADER = "X-Millrace-Delivery"
WINDOW_SECONDS = 300
_DELIVERY = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_PREFIX = "webhook_secret:"


def get_secret(credentials: Any, path: str) -> str | None:
    """The flow's webhook secret, or None when its webhooks need no signature."""
    return credentials.setting(_PREFIX + path)


def set_secret(credentials: Any, path: str, secret: str | None) -> None:
    """Set (or, with None or "", remove) the flow's webhook secret."""
    credentials.set_setting(_PREFIX + path, secret)


def signature(secret: str, timestamp: str, delivery: str, body: bytes) -> str:
    """The `X-Millrace-Signature` value a sender puts on `body`: `sha256=<hex>`."""
    return "sha256=" + Signer.mac(secret.encode(), f"{timestamp}.{delivery}.".encode() + body)


def refusal(credentials: Any, path: str, headers: Any, body: bytes, now: float) -> str | None:
    """Why a webhook call for `path` is refused (a message), or None when it may run.

    A call that passes is remembered by its delivery id, so the same call again is refused.
    """
    secret = get_secret(credentials, path)
    if secret is None:
        return None
    problem = _header_problem(path, headers, now)
    if problem:
        return problem
    timestamp, delivery = headers[TIMESTAMP_HEADER].strip(), headers[DELIVERY_HEADER].strip()
    if not Signer.same(headers[SIGNATURE_HEADER].strip(), signature(secret, timestamp, delivery, body)):
        return (f"the {SIGNATURE_HEADER} signature does not match: it must be sha256=<hex HMAC-SHA256 with the "
                f"flow's secret of \"<{TIMESTAMP_HEADER}>.<{DELIVERY_HEADER}>.<raw body>\">")
    if not _first_delivery(credentials, path, delivery, now):
        return f"delivery {delivery!r} of flow {path} was received already: a replayed webhook is refused"
    return None


def _header_problem(path: str, headers: Any, now: float) -> str | None:
    missing = [name for name in (TIMESTAMP_HEADER, DELIVERY_HEADER, SIGNATURE_HEADER) if not headers.get(name)]
    if missing:
        return f"flow {path} requires signed webhooks: missing header {', '.join(missing)} (see the README, Webhooks)"
    timestamp, delivery = headers[TIMESTAMP_HEADER].strip(), headers[DELIVERY_HEADER].strip()
    if not timestamp.isdigit():
        return f"{TIMESTAMP_HEADER} must be Unix time in whole seconds, not {timestamp[:40]!r}"
    if abs(now - int(timestamp)) > WINDOW_SECONDS:
        return (f"{TIMESTAMP_HEADER} {timestamp} is {abs(now - int(timestamp)):.0f} s away from the server's clock; "
                f"a signed webhook must arrive within {WINDOW_SECONDS} s of it (check the sender's clock)")
    if not _DELIVERY.fullmatch(delivery):
        return f"{DELIVERY_HEADER} must be 1 to 128 of A-Z a-z 0-9 . _ : -, not {delivery[:40]!r}"
    return None


def _first_delivery(credentials: Any, path: str, delivery: str, now: float) -> bool:
    """Record the delivery; False when it was recorded before (a replay)."""

    def record(session: Session) -> None:
        session.exec(delete(WebhookDelivery).where(WebhookDelivery.at < now - 2 * WINDOW_SECONDS))
        session.add(WebhookDelivery(path=path, delivery=delivery, at=now))

    try:
        credentials.store.transact(record)
    except IntegrityError:
        return False
    return True
