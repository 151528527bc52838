"""State of the variables page: the list (secret values never loaded) and the create form."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import settings
from app.engine_service import service
from app.offloop import off_loop
from app.states.guard import admin_only
from app.states.session import record

MASKED = "••••••••"


def _row(item: dict[str, Any]) -> dict[str, str]:
    return {"path": item["path"], "value": MASKED if item["is_secret"] else str(item["value"]),
            "secret": "secret" if item["is_secret"] else "", "description": item["description"] or ""}


class VariablesState(rx.State):
    """The workspace's variables as shown to people, and the last problem of the form."""

    variables: list[dict[str, str]] = []
    problem: str = ""

    @rx.event
    async def load(self) -> None:
        self.variables = await off_loop(_rows)

    @rx.event
    @admin_only("change variables")
    async def save(self, form_data: dict[str, Any]) -> None:
        """Create or update a variable; a secret's value is encrypted and not shown again."""
        from engine import BadInput

        try:
            await off_loop(_save, dict(form_data))
        except BadInput as exc:
            self.problem = str(exc)
            return
        self.problem = ""
        await self.load()

    @rx.event
    @admin_only("delete variables")
    async def delete(self, path: str) -> None:
        from engine import NotFound

        try:
            await off_loop(_delete, path)
        except NotFound as exc:
            self.problem = str(exc)
        await self.load()


def _vault() -> Any:
    from engine import Vault

    return Vault.of(service.store)


def _rows() -> list[dict[str, str]]:
    return [_row(item) for item in _vault().list_variables(workspace=settings.WORKSPACE)]


def _save(form_data: dict[str, Any]) -> None:
    path = str(form_data.get("path") or "").strip()
    _vault().set_variable(path, str(form_data.get("value") or ""), is_secret=bool(form_data.get("is_secret")),
                          description=str(form_data.get("description") or ""), workspace=settings.WORKSPACE)
    record("variable.saved", path)


def _delete(path: str) -> None:
    _vault().delete_variable(path, workspace=settings.WORKSPACE)
    record("variable.deleted", path)
