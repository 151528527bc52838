"""State of the variables page: the list (secret values never loaded) and the create form."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import settings
from app.services.engine_service import service
from app.services.offloop import off_loop
from app.states.guard import admin_only
from app.states.session import record

MASKED = "••••••••"


def _row(item: dict[str, Any]) -> dict[str, str]:
    return {"path": item["path"], "value": MASKED if item["is_secret"] else str(item["value"]),
            "secret": "secret" if item["is_secret"] else "", "description": item["description"] or ""}


class VariablesState(rx.State):
    """The workspace's variables as shown to people, the form (a new variable, or the one
    being edited) and the last problem of the form."""

    variables: list[dict[str, str]] = []
    problem: str = ""
    editing: str = ""  # the path of the variable in the form ("" for a new one)
    editing_secret: bool = False  # its value is not shown: an empty value keeps it
    form_path: str = ""
    form_value: str = ""
    form_description: str = ""
    form_secret: bool = False

    @rx.event
    async def load(self) -> None:
        self.variables = await off_loop(_rows)

    @rx.event
    def set_form_path(self, value: str) -> None:
        self.form_path = value

    @rx.event
    def set_form_value(self, value: str) -> None:
        self.form_value = value

    @rx.event
    def set_form_description(self, value: str) -> None:
        self.form_description = value

    @rx.event
    def set_form_secret(self, value: bool) -> None:
        self.form_secret = bool(value)

    @rx.event
    def edit(self, path: str) -> None:
        """Fill the form with a variable to change it (a secret's value stays hidden)."""
        row = next((row for row in self.variables if row["path"] == path), None)
        if row is None:
            return
        self.editing, self.editing_secret = path, row["secret"] != ""
        self.form_path, self.form_description, self.form_secret = path, row["description"], self.editing_secret
        self.form_value = "" if self.editing_secret else row["value"]
        self.problem = ""

    @rx.event
    def clear_form(self) -> None:
        self.editing, self.editing_secret, self.problem = "", False, ""
        self.form_path = self.form_value = self.form_description = ""
        self.form_secret = False

    @rx.event
    @admin_only("change variables")
    async def save(self, form_data: dict[str, Any]) -> None:
        """Create or update a variable; a secret's value is encrypted and not shown again,
        and an edited secret given no new value keeps its own."""
        from engine import BadInput

        path = self.form_path.strip()
        keep = self.editing_secret and self.editing == path and self.form_value == ""
        try:
            await off_loop(_save, path, None if keep else self.form_value, self.form_secret, self.form_description)
        except BadInput as exc:
            self.problem = str(exc)
            return
        self.clear_form()
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


def _save(path: str, value: str | None, secret: bool, description: str) -> None:
    _vault().set_variable(path, value, is_secret=secret, description=description, workspace=settings.WORKSPACE)
    record("variable.saved", path)


def _delete(path: str) -> None:
    _vault().delete_variable(path, workspace=settings.WORKSPACE)
    record("variable.deleted", path)
