"""State of the resources page: resource types, resources, and the forms that add them."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from app import settings
from app.engine_service import service


def _vault() -> Any:
    from engine import Vault

    return Vault.of(service.store)


class ResourcesState(rx.State):
    """Types (built-in and custom) and resources of the workspace, and the last problem."""

    types: list[dict[str, str]] = []
    resources: list[dict[str, str]] = []
    problem: str = ""

    @rx.event
    def load(self) -> None:
        vault = _vault()
        self.types = [{"name": t["name"], "kind": "built-in" if t["builtin"] else "custom",
                       "fields": ", ".join((t["schema"] or {}).get("properties", {})) or "any value"}
                      for t in vault.resource_types(workspace=settings.WORKSPACE)]
        self.resources = [{"path": r["path"], "type": r["resource_type"], "value": json.dumps(r["value"])}
                          for r in vault.list_resources(workspace=settings.WORKSPACE)]

    @rx.event
    def save_resource(self, form_data: dict[str, Any]) -> None:
        """Create or update a resource; its value is checked against its type's schema."""
        from engine import BadInput, NotFound

        try:
            value = _parse(str(form_data.get("value") or "{}"))
            _vault().set_resource(str(form_data.get("path") or "").strip(), value,
                                  str(form_data.get("resource_type") or "") or None, workspace=settings.WORKSPACE)
        except (BadInput, NotFound) as exc:
            self.problem = str(exc)
            return
        self.problem = ""
        self.load()

    @rx.event
    def save_type(self, form_data: dict[str, Any]) -> None:
        """Add a custom resource type from a name and a JSON Schema."""
        from engine import BadInput

        try:
            schema = _parse(str(form_data.get("schema") or "{}"))
            _vault().create_resource_type(str(form_data.get("name") or "").strip(), schema,
                                          workspace=settings.WORKSPACE)
        except BadInput as exc:
            self.problem = str(exc)
            return
        self.problem = ""
        self.load()

    @rx.event
    def delete(self, path: str) -> None:
        from engine import NotFound

        try:
            _vault().delete_resource(path, workspace=settings.WORKSPACE)
        except NotFound as exc:
            self.problem = str(exc)
        self.load()


def _parse(text: str) -> Any:
    from engine import BadInput

    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
