"""State of the runs list: one page of runs, newest first."""

from __future__ import annotations

import reflex as rx

from app import present
from app.engine_service import service

PAGE_SIZE = 50


class RunsState(rx.State):
    """A page of runs and where it starts."""

    rows: list[dict[str, str]] = []
    offset: int = 0
    total: int = 0

    @rx.event
    def load(self) -> None:
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

    def _fetch(self) -> None:
        # Subflow runs are listed too: the store's filters cannot ask for "no parent".
        store = service.store
        self.total = store.count_runs()
        self.offset = min(self.offset, max(0, self.total - 1))
        self.rows = [present.run_row(run) for run in store.list_runs(limit=PAGE_SIZE, offset=self.offset)]

    @rx.var
    def has_newer(self) -> bool:
        return self.offset > 0

    @rx.var
    def has_older(self) -> bool:
        return self.offset + PAGE_SIZE < self.total
