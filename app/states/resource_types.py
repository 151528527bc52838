"""State of the resource types page: built-in and custom types, and the form adding one."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import settings
from app.services.engine_service import service
from app.services.offloop import off_loop
from app.states.guard import admin_only
from app.states.session import record
from app.states.resources import parse_json


def _vault() -> Any:
    from engine import Vault

    return Vault.of(service.store)


def field_summary(schema: Any) -> str:
    """A type's fields in words: "host (string, required), port (integer)", or "any value"."""
    if not isinstance(schema, dict) or not schema.get("properties"):
        return "any value"
    required = set(schema.get("required") or [])
    parts = []
    for name, prop in schema["properties"].items():
        kind = prop.get("type", "any") if isinstance(prop, dict) else "any"
        kind = "|".join(kind) if isinstance(kind, list) else str(kind)
        parts.append(f"{name} ({kind}, required)" if name in required else f"{name} ({kind})")
    return ", ".join(parts)


def schema_problem(schema: Any) -> str:
    """"" when `schema` is a JSON Schema (draft 2020-12) describing an object, else why not."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if not isinstance(schema, dict):
        return "must be a JSON object, e.g. {\"type\": \"object\", \"properties\": {...}}"
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in exc.absolute_path)
        return f"is not a valid JSON Schema: {exc.message}" + (f" (at schema{where})" if where else "")
    return ""


class ResourceTypesState(rx.State):
    """Every type of the workspace, and the messages of the create form, per field."""

    types: list[dict[str, str]] = []
    name_error: str = ""
    schema_error: str = ""
    created: str = ""
    form_key: int = 0

    @rx.event
    async def load(self) -> None:
        self.types = await off_loop(_types)

    @rx.event
    @admin_only("create resource types")
    async def create(self, form_data: dict[str, Any]) -> None:
        """Add a custom type; a message goes to the name or the schema field when wrong."""
        from engine import BadInput

        self.name_error = self.created = ""
        schema, problem = parse_json(str(form_data.get("schema") or ""))
        self.schema_error = problem or schema_problem(schema)
        if self.schema_error:
            return
        name = str(form_data.get("name") or "").strip()
        try:
            await off_loop(_create, name, schema, str(form_data.get("description") or ""))
        except BadInput as exc:
            self.name_error = str(exc)
            return
        self.created = name
        self.form_key += 1
        await self.load()


def _types() -> list[dict[str, str]]:
    return [{"name": t["name"], "kind": "built-in" if t["builtin"] else "custom", "fields": field_summary(t["schema"]),
             "description": t["description"] or ""} for t in _vault().resource_types(workspace=settings.WORKSPACE)]


def _create(name: str, schema: Any, description: str) -> None:
    _vault().create_resource_type(name, schema, description, workspace=settings.WORKSPACE)
    record("resource_type.created", name)
