"""State of the home page: the most recent runs and a few counts."""

from __future__ import annotations

import reflex as rx

from app import present, settings
from app.engine_service import service

RECENT = 10


class HomeState(rx.State):
    """Recent runs and how many flows and runs there are."""

    recent: list[dict[str, str]] = []
    flow_count: int = 0
    run_count: int = 0

    @rx.event
    def load(self) -> None:
        store = service.store
        self.recent = [present.run_row(run) for run in store.list_runs(limit=RECENT)]
        self.flow_count = len(store.list_flows(workspace=settings.WORKSPACE))
        self.run_count = store.count_runs()
