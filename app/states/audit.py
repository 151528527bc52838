"""State of the audit log page: the latest entries, newest first."""

from __future__ import annotations

import reflex as rx

from app import present
from app.engine_service import service

PAGE_SIZE = 200


class AuditState(rx.State):
    """The latest audit entries as shown to people."""

    entries: list[dict[str, str]] = []

    @rx.event
    def load(self) -> None:
        self.entries = [{"when": present.when(e["at"]), "actor": e["actor"], "action": e["action"],
                         "target": e["target"], "detail": e["detail"]} for e in service.accounts.audit(PAGE_SIZE)]
