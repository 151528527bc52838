"""Which resources a form's resource arguments may take: their paths, by resource type."""

from __future__ import annotations

from typing import Any

from app import settings
from app.services.engine_service import service
from components.schema_form import resource_types


def resource_choices(schema: dict[str, Any] | None) -> dict[str, list[str]]:
    """For each resource type a property of `schema` takes (`format: resource-<type>`, in
    nested objects too), the paths of the workspace's resources of that type; {} when it
    takes none."""
    from engine import Vault

    wanted = resource_types(schema)
    if not wanted:
        return {}
    vault = Vault.of(service.store)
    return {kind: [row["path"] for row in vault.list_resources(workspace=settings.WORKSPACE, resource_type=kind)]
            for kind in sorted(wanted)}
