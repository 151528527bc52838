"""Resources and resource types, and how `$var:`/`$res:` references resolve for runs.

A resource is a typed JSON value (connection settings, state) checked against its
type's JSON Schema; built-in types every workspace has are in `BUILTIN_TYPES`. Flows
refer to variables and resources as static args `"$var:path"` / `"$res:path"` and, in
JavaScript, as `variable('path')` / `resource('path')` with a literal path.
"""

from __future__ import annotations

import json
import re
from typing import Any

from engine.errors import ISSUE_CHARS, BadInput, NotFound, shorten
from engine.variables import check_path

VAR_PREFIX, RES_PREFIX = "$var:", "$res:"
LOOKUPS_NAME = "__millrace_lookups"
_LOOKUP_CALL = re.compile(r"""(?<![\w$.])(resource|variable)\(\s*(?:'([^'\\\n]+)'|"([^"\\\n]+)")\s*\)""")

BUILTIN_TYPES: dict[str, dict[str, Any]] = {
    "postgresql": {
        "type": "object", "required": ["host", "dbname"],
        "properties": {"host": {"type": "string"}, "port": {"type": "integer"}, "user": {"type": "string"},
                       "password": {"type": "string"}, "dbname": {"type": "string"},
                       "sslmode": {"type": "string"}},
    },
    "http": {
        "type": "object", "required": ["base_url"],
        "properties": {"base_url": {"type": "string"}, "token": {"type": "string"},
                       "headers": {"type": "object"}},
    },
    "smtp": {
        "type": "object", "required": ["host", "port"],
        "properties": {"host": {"type": "string"}, "port": {"type": "integer"}, "user": {"type": "string"},
                       "password": {"type": "string"}, "from": {"type": "string"}},
    },
    "slack_webhook": {
        "type": "object", "required": ["webhook_url"],
        "properties": {"webhook_url": {"type": "string"}},
    },
    "any": {},
    "state": {},
}
"""Resource types every workspace has; `any` and `state` (wmill's set_state) accept any value."""


class ResourceValidationError(BadInput):
    """A resource value breaks its type's schema; the message names the resource and field."""


class Resources:
    """The resource half of `engine.vault.Vault` (variables come from `engine.variables.Variables`)."""

    store: Any

    # Resource types

    def resource_types(self, *, workspace: str = "main") -> list[dict[str, Any]]:
        """Built-in then custom types, as {name, schema, description, builtin}."""
        out = [{"name": name, "schema": schema, "description": "", "builtin": True, "workspace_id": workspace}
               for name, schema in BUILTIN_TYPES.items()]
        out += [{"name": row.name, "schema": row.type_schema, "description": row.description, "builtin": False,
                 "workspace_id": workspace}
                for row in self.store.list_resource_type_rows(workspace=workspace) if row.name not in BUILTIN_TYPES]
        return out

    def create_resource_type(self, name: str, schema: Any, description: str = "", *, workspace: str = "main") -> None:
        """Add or replace a custom type; its schema must itself be valid JSON Schema."""
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        if not re.fullmatch(r"[a-z][a-z0-9_]*", name or ""):
            raise BadInput(f"resource type name {name!r} must be lower case letters, digits and _")
        if name in BUILTIN_TYPES:
            raise BadInput(f"resource type {name!r} is built in and cannot be replaced")
        try:
            Draft202012Validator.check_schema(schema if schema is not None else {})
        except SchemaError as exc:
            raise BadInput(f"resource type {name!r}: its schema is not valid JSON Schema: {exc.message}") from None
        self.store.put_resource_type(name, schema or {}, description, workspace=workspace)

    def type_schema(self, name: str, *, workspace: str = "main") -> dict[str, Any]:
        """Raises NotFound when there is no such type."""
        for item in self.resource_types(workspace=workspace):
            if item["name"] == name:
                return item["schema"] or {}
        raise NotFound(f"resource type {name!r} does not exist; create it first (resources/type/create)")

    # Resources

    def set_resource(self, path: str, value: Any = None, resource_type: str | None = None, *,
                     description: str | None = None, workspace: str = "main") -> None:
        """Create or update a resource after checking its value against its type."""
        check_path(path, "resource")
        row = self.store.get_resource_row(path, workspace=workspace)
        if row is None and not resource_type:
            raise BadInput(f"resource {path}: resource_type is required")
        kind = resource_type or row.resource_type
        value = value if value is not None or row is None else row.value
        self.validate(path, kind, value, workspace=workspace)
        values: dict[str, Any] = {"resource_type": kind, "value": value}
        if description is not None or row is None:
            values["description"] = description or ""
        self.store.put_resource(path, workspace=workspace, **values)

    def validate(self, path: str, resource_type: str, value: Any, *, workspace: str = "main") -> None:
        """Raises ResourceValidationError naming the resource and each bad field."""
        from jsonschema import Draft202012Validator

        schema = self.type_schema(resource_type, workspace=workspace)
        problems = [
            f"{_json_path(error.absolute_path)}: {shorten(error.message, ISSUE_CHARS)}"
            for error in Draft202012Validator(schema).iter_errors(value)
            if not _is_reference(error.instance)  # "$var:..." stands for a value checked at use
        ]
        if problems:
            raise ResourceValidationError(
                f"resource {path} (type {resource_type}) is invalid: " + "; ".join(sorted(problems)))

    def resource(self, path: str, *, workspace: str = "main") -> dict[str, Any]:
        """A resource with its stored value (`$var:` references not expanded)."""
        row = self.store.get_resource_row(path, workspace=workspace)
        if row is None:
            raise NotFound(f"resource {path!r} does not exist in workspace {workspace!r}")
        return {"path": row.path, "resource_type": row.resource_type, "value": row.value,
                "description": row.description, "workspace_id": row.workspace, "is_oauth": False,
                "created_at": row.created_at, "updated_at": row.updated_at}

    def list_resources(self, *, workspace: str = "main", resource_type: str | None = None,
                       path_start: str | None = None) -> list[dict[str, Any]]:
        rows = self.store.list_resource_rows(workspace=workspace, resource_type=resource_type, path_start=path_start)
        return [self.resource(row.path, workspace=workspace) for row in rows]

    def resource_value(self, path: str, *, workspace: str = "main", reveal: bool = False) -> Any:
        """The value with `$var:`/`$res:` strings in it replaced by what they name.

        Secret variables are expanded only with `reveal` (the runtime); otherwise their
        reference stays as written.
        """
        return self.interpolate(self.resource(path, workspace=workspace)["value"], workspace=workspace,
                                reveal=reveal, seen=(path,))

    def delete_resource(self, path: str, *, workspace: str = "main") -> None:
        self.store.delete_resource(path, workspace=workspace)

    # Resolution for runs

    def interpolate(self, value: Any, *, workspace: str = "main", reveal: bool = True,
                    seen: tuple[str, ...] = ()) -> Any:
        """Replace `$var:path` and `$res:path` strings anywhere inside `value`."""
        if isinstance(value, dict):
            return {key: self.interpolate(item, workspace=workspace, reveal=reveal, seen=seen)
                    for key, item in value.items()}
        if isinstance(value, list):
            return [self.interpolate(item, workspace=workspace, reveal=reveal, seen=seen) for item in value]
        if not isinstance(value, str):
            return value
        if value.startswith(VAR_PREFIX):
            row = self._variable_row(value[len(VAR_PREFIX):], workspace)
            return value if row.is_secret and not reveal else self._plain(row)
        if value.startswith(RES_PREFIX):
            path = value[len(RES_PREFIX):]
            if path in seen:
                raise BadInput(f"resource {path} refers to itself through {' -> '.join(seen)}")
            inner = self.resource(path, workspace=workspace)["value"]
            return self.interpolate(inner, workspace=workspace, reveal=reveal, seen=(*seen, path))
        return value

    def resolve_static(self, value: Any, *, workspace: str = "main") -> Any:
        """A static step arg: `"$var:path"` / `"$res:path"` become the value they name."""
        if isinstance(value, str) and value.startswith((VAR_PREFIX, RES_PREFIX)):
            return self.interpolate(value, workspace=workspace)
        return value

    def expand_lookups(self, expr: str, *, workspace: str = "main") -> tuple[str, dict[str, Any]]:
        """Rewrite `resource('p')` / `variable('p')` calls (literal paths) into reads of
        one extra name bound to their values; returns the new text and that binding.

        A call spelled inside a string literal is rewritten too; that only changes the
        string.
        """
        values: dict[str, Any] = {}

        def replace(match: re.Match[str]) -> str:
            kind, path = match.group(1), match.group(2) or match.group(3)
            key = f"{kind}:{path}"
            if key not in values:
                values[key] = (self.resource_value(path, workspace=workspace, reveal=True) if kind == "resource"
                               else self.variable_value(path, workspace=workspace))
            return f"{LOOKUPS_NAME}[{json.dumps(key)}]"

        text = _LOOKUP_CALL.sub(replace, expr)
        return text, ({LOOKUPS_NAME: values} if values else {})


def _is_reference(value: Any) -> bool:
    return isinstance(value, str) and value.startswith((VAR_PREFIX, RES_PREFIX))


def _json_path(parts: Any) -> str:
    text = "value"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text
