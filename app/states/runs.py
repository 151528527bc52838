"""State of the runs list: filters (flow, status, time range), one page of runs, newest first."""

from __future__ import annotations

import time
from typing import Any

import reflex as rx

from app import present, settings
from app.engine_service import service

PAGE_SIZE = 50
ALL = "all"
STATUSES = (ALL, "success", "failure", "running", "queued", "suspended", "canceled")
RANGES = {ALL: None, "1h": 3600.0, "24h": 86_400.0, "7d": 7 * 86_400.0, "30d": 30 * 86_400.0}


class RunsState(rx.State):
    """A page of runs, where it starts, and the filters."""

    rows: list[dict[str, str]] = []
    offset: int = 0
    total: int = 0
    flow: str = ALL
    status: str = ALL
    since: str = ALL  # a key of RANGES
    subflows: bool = False  # list runs of subflows too
    flow_paths: list[str] = [ALL]

    @rx.event
    def load(self) -> None:
        params = self.router.url.query_parameters
        self.flow = str(params.get("flow") or self.flow)
        self.status = str(params.get("status") or self.status)
        self.flow_paths = [ALL] + sorted({row.path for row in service.store.list_flows(workspace=settings.WORKSPACE)}
                                         | ({self.flow} - {ALL}))
        self._fetch()

    @rx.event
    def set_filter(self, name: str, value: Any) -> None:
        """Change one filter (flow, status, since, subflows) and go back to the first page."""
        if name == "flow":
            self.flow = str(value)
        elif name == "status" and value in STATUSES:
            self.status = str(value)
        elif name == "since" and value in RANGES:
            self.since = str(value)
        elif name == "subflows":
            self.subflows = bool(value)
        self.offset = 0
        self._fetch()

    @rx.event
    def newer(self) -> None:
        self.offset = max(0, self.offset - PAGE_SIZE)
        self._fetch()

    @rx.event
    def older(self) -> None:
        if self.offset + PAGE_SIZE < self.total:
            self.offset += PAGE_SIZE
        self._fetch()

    def _filters(self) -> dict[str, Any]:
        window = RANGES.get(self.since)
        return {
            "path": None if self.flow == ALL else self.flow,
            "status": None if self.status == ALL else self.status,
            "since": None if window is None else time.time() - window,
            "top_level": not self.subflows,
        }

    def _fetch(self) -> None:
        store = service.store
        filters = self._filters()
        self.total = store.count_runs(**filters)
        self.offset = min(self.offset, max(0, self.total - 1))
        self.rows = [present.run_row(run) for run in store.list_runs(limit=PAGE_SIZE, offset=self.offset, **filters)]

    @rx.var
    def has_newer(self) -> bool:
        return self.offset > 0

    @rx.var
    def has_older(self) -> bool:
        return self.offset + PAGE_SIZE < self.total
