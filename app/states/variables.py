"""State of the variables page: the list (secret values never loaded) and the create form."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import settings
from app.engine_service import service
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
    def load(self) -> None:
        from engine import Vault

        self.variables = [_row(item) for item in Vault.of(service.store).list_variables(workspace=settings.WORKSPACE)]

    @rx.event
    @admin_only("change variables")
    def save(self, form_data: dict[str, Any]) -> None:
        """Create or update a variable; a secret's value is encrypted and not shown again."""
        from engine import BadInput, Vault

        path = str(form_data.get("path") or "").strip()
        try:
            Vault.of(service.store).set_variable(
                path, str(form_data.get("value") or ""),
                is_secret=bool(form_data.get("is_secret")), description=str(form_data.get("description") or ""),
                workspace=settings.WORKSPACE)
        except BadInput as exc:
            self.problem = str(exc)
            return
        record("variable.saved", path)
        self.problem = ""
        self.load()

    @rx.event
    @admin_only("delete variables")
    def delete(self, path: str) -> None:
        from engine import NotFound, Vault

        try:
            Vault.of(service.store).delete_variable(path, workspace=settings.WORKSPACE)
            record("variable.deleted", path)
        except NotFound as exc:
            self.problem = str(exc)
        self.load()
