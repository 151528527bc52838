"""State of the home page: per-flow success rate and p95 duration, failures by step,
pending approvals, and the most recent runs."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.views import present, triggers
from app import settings
from app.services.engine_service import service
from app.services.offloop import off_loop

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
    async def load(self) -> None:
        shown = await off_loop(_summary)
        self.recent, self.stats, self.failures = shown["recent"], shown["stats"], shown["failures"]
        self.flow_count, self.run_count, self.pending_count = shown["flows"], shown["runs"], shown["pending"]


def _summary() -> dict[str, Any]:
    """What the home page shows, read from the store: real runs only (the editor's
    previews are tries, not the flow's record)."""
    store = service.store
    real = triggers.run_filters(triggers.REAL)
    runs = store.list_runs(top_level=True, limit=STATS_WINDOW, **real)
    return {"recent": [present.run_row(run) for run in runs[:RECENT]],
            "flows": len(store.list_flows(workspace=settings.WORKSPACE)),
            "runs": store.count_runs(top_level=True, **real),
            "pending": store.count_runs(status="suspended", top_level=True, **real),
            "stats": present.flow_stats(runs), "failures": present.failures_by_step(runs)[:10]}
