"""State of the resources page: the resources, and a form generated from the chosen type.

The value form comes from the type's JSON Schema (`components.schema_form`), so a bad
value is reported at its field. Types without properties (`any`, `state`, a custom type
that only says "object"), or a user who prefers it, get a raw JSON text area instead.
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from app import settings
from app.services.engine_service import service
from app.services.offloop import off_loop
from app.states.guard import admin_only
from app.states.session import record
from components.schema_form import SchemaFormState, parse_form

PATH_INPUT = "_resource_path"
"""The path input's name inside the generated form (a name no schema property is likely to take)."""
REFERENCE_PREFIXES = ("$var:", "$res:")
"""A field holding a reference is checked when a run resolves it, not when it is saved."""


def _vault() -> Any:
    from engine import Vault

    return Vault.of(service.store)


def _has_fields(schema: Any) -> bool:
    return isinstance(schema, dict) and bool(schema.get("properties"))


def parse_value(schema: dict[str, Any], form_data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The resource value from the generated form, and one message per bad field.

    Like `parse_form`, except that a `$var:`/`$res:` reference is kept as text in any field.
    """
    references = {name: str(raw).strip() for name, raw in form_data.items()
                  if isinstance(raw, str) and raw.strip().startswith(REFERENCE_PREFIXES)}
    args, errors = parse_form(schema, {k: v for k, v in form_data.items() if k not in references})
    for name, text in references.items():
        if name in (schema.get("properties") or {}):
            args[name] = text
            errors.pop(name, None)
    return args, errors


def parse_json(text: str) -> tuple[Any, str]:
    """(value, "") or (None, what is wrong with the JSON text)."""
    try:
        return json.loads(text or "{}"), ""
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"


class ResourcesState(SchemaFormState, rx.State):
    """Resources of the workspace, the type being filled in, and the last problem."""

    type_names: list[str] = []
    schemas: dict[str, dict[str, Any]] = {}
    resources: list[dict[str, str]] = []
    chosen_type: str = ""
    raw_json: bool = False
    raw_error: str = ""
    problem: str = ""
    saved: str = ""

    @rx.var
    def chosen_has_fields(self) -> bool:
        """Whether the chosen type has properties to generate a form from."""
        return _has_fields(self.schemas.get(self.chosen_type))

    @rx.var
    def use_raw(self) -> bool:
        """Raw JSON when asked for, or when the type has no fields to generate."""
        return self.chosen_type != "" and (self.raw_json or not self.chosen_has_fields)

    @rx.event
    async def load(self) -> None:
        types, self.resources = await off_loop(_types_and_resources)
        self.type_names = [t["name"] for t in types]
        self.schemas = {t["name"]: t["schema"] if isinstance(t["schema"], dict) else {} for t in types}

    @rx.event
    def choose_type(self, name: str) -> None:
        """Show the form of type `name`, every input back at its default."""
        self.chosen_type = name
        self.raw_error = self.problem = self.saved = ""
        self.show_schema(self.schemas.get(name) or {})

    @rx.event
    def set_raw_json(self, on: bool) -> None:
        self.raw_json = on
        self.raw_error = ""
        self.form_errors = {}

    @rx.event
    @admin_only("save resources")
    async def save_fields(self, form_data: dict[str, Any]) -> None:
        """Save a resource from the generated form; bad fields get their message."""
        value, errors = parse_value(self.form_schema, form_data)
        self.form_errors = errors
        if not errors:
            self.form_errors = {"": problem} if (problem := await self._save(form_data, value)) else {}

    @rx.event
    @admin_only("save resources")
    async def save_raw(self, form_data: dict[str, Any]) -> None:
        """Save a resource from its value typed as JSON."""
        value, self.raw_error = parse_json(str(form_data.get("value") or ""))
        if not self.raw_error:
            self.raw_error = await self._save(form_data, value)

    async def _save(self, form_data: dict[str, Any], value: Any) -> str:
        """Store the resource; "" or what is wrong (the path, or the engine's own check)."""
        from engine import BadInput, NotFound

        path = str(form_data.get(PATH_INPUT) or "").strip()
        try:
            await off_loop(_save, path, value, self.chosen_type)
        except (BadInput, NotFound) as exc:
            return str(exc)
        self.saved = path
        await self.load()
        return ""

    @rx.event
    @admin_only("delete resources")
    async def delete(self, path: str) -> None:
        from engine import NotFound

        try:
            await off_loop(_delete, path)
        except NotFound as exc:
            self.problem = str(exc)
        await self.load()


def _types_and_resources() -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    vault = _vault()
    resources = [{"path": r["path"], "type": r["resource_type"], "value": json.dumps(r["value"])}
                 for r in vault.list_resources(workspace=settings.WORKSPACE)]
    return vault.resource_types(workspace=settings.WORKSPACE), resources


def _save(path: str, value: Any, kind: str) -> None:
    _vault().set_resource(path, value, kind or None, workspace=settings.WORKSPACE)
    record("resource.saved", path, kind)


def _delete(path: str) -> None:
    _vault().delete_resource(path, workspace=settings.WORKSPACE)
    record("resource.deleted", path)
