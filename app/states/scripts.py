"""State of the scripts list."""

from __future__ import annotations

import reflex as rx

from app import present, settings
from app.engine_service import service


class ScriptsState(rx.State):
    """The saved scripts (latest versions)."""

    scripts: list[dict[str, str]] = []

    @rx.event
    def load(self) -> None:
        self.scripts = [present.script_row(row) for row in service.store.list_scripts(workspace=settings.WORKSPACE)]
