"""State of the home page: per-flow success rate and p95 duration, failures by step,
pending approvals, and the most recent runs."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import present, settings
from app.engine_service import service

RECENT = 10
STATS_WINDOW = 2000
"""How many of the latest top-level runs the statistics are computed over."""


class HomeState(rx.State):
    """Counts, statistics and recent runs."""

    recent: list[dict[str, str]] = []
    flow_count: int = 0
    run_count: int = 0
    pending_count: int = 0
    stats: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []

    @rx.event
    def load(self) -> None:
        store = service.store
        runs = store.list_runs(top_level=True, limit=STATS_WINDOW)
        self.recent = [present.run_row(run) for run in runs[:RECENT]]
        self.flow_count = len(store.list_flows(workspace=settings.WORKSPACE))
        self.run_count = store.count_runs(top_level=True)
        self.pending_count = store.count_runs(status="suspended", top_level=True)
        self.stats = present.flow_stats(runs)
        self.failures = present.failures_by_step(runs)[:10]
