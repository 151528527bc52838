"""State of the flows list: every saved flow, filtered by a search box."""

from __future__ import annotations

import reflex as rx

from app import present, settings
from app.engine_service import service


class FlowsState(rx.State):
    """The flows (latest versions) and the search text."""

    flows: list[dict[str, str]] = []
    query: str = ""

    @rx.event
    def load(self) -> None:
        self.flows = [present.flow_row(row) for row in service.store.list_flows(workspace=settings.WORKSPACE)]

    @rx.event
    def set_query(self, value: str) -> None:
        self.query = value

    @rx.var
    def visible(self) -> list[dict[str, str]]:
        """The flows whose path or summary contains the search text (any case)."""
        needle = self.query.strip().lower()
        if not needle:
            return self.flows
        return [row for row in self.flows if needle in row["path"].lower() or needle in row["summary"].lower()]
