"""The workspace as `wmill sync pull` reads it: one file per item, in Windmill's export layout.

`export(store, options)` gives {archive path: text}; `wmill_workspaces` zips it. Scripts
are their code file and a `<path>.script.json` of metadata; flows, resources, resource
types, variables and folders are JSON documents without the server's own fields
(timestamps, workspace). A secret variable is exported as its ciphertext, as Windmill
exports it: the value itself never leaves the server in clear.
"""

from __future__ import annotations

import json
from typing import Any

from app.services import folders
from app import settings

EXTENSIONS = {"python3": "py", "bash": "sh", "bun": "ts", "postgresql": "pg.sql", "duckdb": "duckdb.sql"}
"""A script's code file extension per language (TypeScript is bun's, as `wmill` defaults)."""
RUNTIME_TYPES = frozenset({"state", "cache"})
"""Resources scripts keep for themselves (`wmill.set_state`): not exported, as in Windmill."""


def script_metadata(row: Any) -> dict[str, Any]:
    """What `wmill` keeps beside a script's code (and compares on push)."""
    out: dict[str, Any] = {"summary": row.summary or "", "description": "", "schema": row.args_schema,
                           "kind": "script"}
    if row.lock:
        out["lock"] = row.lock
    if row.dedicated_worker:
        out["dedicated_worker"] = True
    return out


def flow_document(row: Any) -> dict[str, Any]:
    document = row.document or {}
    out = {"summary": document.get("summary") or "", "description": document.get("description") or "",
           "value": document.get("value") or {"modules": []}, "schema": document.get("schema")}
    if document.get("dedicated_worker") is True:
        out["dedicated_worker"] = True
    return out


def variable_document(row: Any) -> dict[str, Any]:
    return {"value": row.value, "is_secret": bool(row.is_secret), "description": row.description or ""}


def resource_document(row: Any) -> dict[str, Any]:
    return {"value": row.value, "description": row.description or "", "resource_type": row.resource_type}


def resource_type_document(row: Any) -> dict[str, Any]:
    return {"schema": row.type_schema, "description": row.description or ""}


def schedule_document(row: Any) -> dict[str, Any]:
    return {"schedule": row.schedule, "timezone": row.timezone, "enabled": bool(row.enabled),
            "script_path": row.script_path, "is_flow": bool(row.is_flow), "args": row.args or {},
            "summary": row.summary or "", "on_failure": row.on_failure, "catch_up": row.catch_up}


def export(store: Any, credentials: Any, *, skip: set[str], schedules: bool = False) -> dict[str, str]:
    """Every item of the workspace as archive files; `skip` names the kinds left out
    ("variables", "secrets", "resources", "resource_types"); schedules only when asked."""
    files: dict[str, str] = {}
    ws = settings.WORKSPACE
    for name, folder in folders.every(store, credentials).items():
        files[f"f/{name}/folder.meta.json"] = _json(folder)
    for row in store.list_scripts(workspace=ws):
        files[f"{row.path}.{EXTENSIONS.get(row.language, row.language)}"] = row.content
        files[f"{row.path}.script.json"] = _json(script_metadata(row))
    for row in store.list_flows(workspace=ws):
        files[f"{row.path}.flow.json"] = _json(flow_document(row))
    if "resources" not in skip:
        for row in store.list_resource_rows(workspace=ws):
            if row.resource_type not in RUNTIME_TYPES:
                files[f"{row.path}.resource.json"] = _json(resource_document(row))
    if "resource_types" not in skip:
        for row in store.list_resource_type_rows(workspace=ws):
            files[f"{row.name}.resource-type.json"] = _json(resource_type_document(row))
    if "variables" not in skip:
        for row in store.list_variable_rows(workspace=ws):
            if not (row.is_secret and "secrets" in skip):
                files[f"{row.path}.variable.json"] = _json(variable_document(row))
    if schedules:
        for row in store.list_schedules(workspace=ws):
            files[f"{row.path}.schedule.json"] = _json(schedule_document(row))
    return files


def _json(document: Any) -> str:
    return json.dumps(document, indent=2)
