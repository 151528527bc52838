"""State of the scripts list, and the form that creates a script."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.services import catalog
from app.views import present
from app import routes, settings
from app.services.engine_service import service
from app.services.offloop import off_loop
from app.states.guard import admin_only
from app.states.session import record


class ScriptsState(rx.State):
    """The saved scripts (latest versions) and what is wrong with a new script's path."""

    scripts: list[dict[str, str]] = []
    problem: str = ""

    @rx.event
    async def load(self) -> None:
        self.problem = ""
        self.scripts = await off_loop(_script_rows)

    @rx.event
    @admin_only("create scripts")
    async def create(self, form_data: dict[str, Any]):
        """Save a starter script at the given path and open it in the editor."""
        try:
            path = await off_loop(_create, str(form_data.get("path") or ""),
                                  str(form_data.get("language") or "python3"))
        except catalog.CatalogError as exc:
            self.problem = str(exc)
            return None
        self.problem = ""
        return rx.redirect(routes.script_editor_url(path))


def _script_rows() -> list[dict[str, str]]:
    return [present.script_row(row) for row in service.store.list_scripts(workspace=settings.WORKSPACE)]


def _create(path: str, language: str) -> str:
    """Save a starter script at `path` (audited); its checked path."""
    path = catalog.check_path(path)
    if service.store.get_script(path, workspace=settings.WORKSPACE) is not None:
        raise catalog.CatalogError(f"a script exists already at {path}")
    catalog.save_script(service.store, path, language, catalog.NEW_SCRIPT.get(language, ""))
    record("script.saved", path, "created")
    return path
