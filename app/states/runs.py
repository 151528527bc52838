"""State of the runs list: filters (flow, status, time range, trigger), one page of runs, newest first."""

from __future__ import annotations

import time
from typing import Any

import reflex as rx

from app.views import present, triggers
from app import settings
from app.services.engine_service import service
from app.services.offloop import off_loop
from app.states.guard import caller

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
    trigger: str = triggers.REAL  # a key of triggers.CHOICES
    flow_paths: list[str] = [ALL]

    @rx.event
    async def load(self) -> None:
        params = self.router.url.query_parameters
        self.flow = str(params.get("flow") or self.flow)
        self.status = str(params.get("status") or self.status)
        if params.get("trigger") in triggers.CHOICES:
            self.trigger = str(params["trigger"])
        paths = await off_loop(_flow_paths)
        self.flow_paths = [ALL] + sorted(paths | ({self.flow} - {ALL}))
        await self._fetch()

    @rx.event
    async def set_filter(self, name: str, value: Any) -> None:
        """Change one filter (flow, status, since, trigger, subflows) and go back to the first page."""
        if name == "flow":
            self.flow = str(value)
        elif name == "status" and value in STATUSES:
            self.status = str(value)
        elif name == "since" and value in RANGES:
            self.since = str(value)
        elif name == "trigger" and value in triggers.CHOICES:
            self.trigger = str(value)
        elif name == "subflows":
            self.subflows = bool(value)
        self.offset = 0
        await self._fetch()

    @rx.event
    async def newer(self) -> None:
        self.offset = max(0, self.offset - PAGE_SIZE)
        await self._fetch()

    @rx.event
    async def older(self) -> None:
        if self.offset + PAGE_SIZE < self.total:
            self.offset += PAGE_SIZE
        await self._fetch()

    @rx.event
    async def cancel(self, run_id: str):
        """Cancel one run of the list (queued, running or waiting), then show the page again."""
        from engine import BadInput, NotFound

        try:
            await off_loop(service.cancel, run_id, by=caller().username)
        except (BadInput, NotFound) as exc:
            yield rx.toast.error(str(exc))
        await self._fetch()

    def _filters(self) -> dict[str, Any]:
        window = RANGES.get(self.since)
        return {
            "path": None if self.flow == ALL else self.flow,
            "status": None if self.status == ALL else self.status,
            "since": None if window is None else time.time() - window,
            "top_level": not self.subflows,
            **triggers.run_filters(self.trigger),
        }

    async def _fetch(self) -> None:
        self.total, self.offset, self.rows = await off_loop(_page, self._filters(), self.offset)

    @rx.var
    def has_newer(self) -> bool:
        return self.offset > 0

    @rx.var
    def has_older(self) -> bool:
        return self.offset + PAGE_SIZE < self.total


def _flow_paths() -> set[str]:
    return {row.path for row in service.store.list_flows(workspace=settings.WORKSPACE)}


def _page(filters: dict[str, Any], offset: int) -> tuple[int, int, list[dict[str, str]]]:
    """(how many runs match, the page's offset within them, the page's rows)."""
    store = service.store
    total = store.count_runs(**filters)
    offset = min(offset, max(0, total - 1))
    return total, offset, [present.run_row(run) for run in store.list_runs(limit=PAGE_SIZE, offset=offset, **filters)]
