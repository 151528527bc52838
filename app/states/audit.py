"""State of the audit log page: the latest entries, newest first."""

from __future__ import annotations

import reflex as rx

from app.views import present
from app.services.engine_service import service
from app.services.offloop import off_loop

PAGE_SIZE = 200


class AuditState(rx.State):
    """The latest audit entries as shown to people."""

    entries: list[dict[str, str]] = []

    @rx.event
    async def load(self) -> None:
        self.entries = await off_loop(_entries)


def _entries() -> list[dict[str, str]]:
    return [{"when": present.when(e["at"]), "actor": e["actor"], "action": e["action"], "target": e["target"],
             "detail": e["detail"]} for e in service.accounts.audit(PAGE_SIZE)]
