"""Variables, resources and resource types: encrypted, validated, resolved for runs.

A secret variable is stored as a Fernet token; the key is `MILLRACE_SECRET_KEY`, else
a key file (`secret.key`, mode 0600) created in `MILLRACE_DATA_DIR`, else next to the
SQLite file, else under `data/`. Secret values leave the vault only through
`variable_value` / `resource_value(..., reveal=True)`, which the runtime uses; what a
run shows is masked by `engine.masking`.

Flows refer to them as static args `"$var:path"` / `"$res:path"` and, in JavaScript,
as `variable('path')` / `resource('path')` with a literal path.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from pathlib import Path
from typing import Any

from engine.errors import ISSUE_CHARS, BadInput, NotFound, shorten

KEY_FILE = "secret.key"
RUN_TOKEN_PREFIX = "run."
MIN_MASKED_LENGTH = 3
"""Shorter secret values are not masked: masking "a" would garble every line."""
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


class Vault:
    """Reads and writes variables and resources of a Store, encrypting secrets.

    Args:
        store: an `engine.store.Store`.
        key: a Fernet key (or any passphrase); None: from the environment or key file.
    """

    def __init__(self, store: Any, key: str | bytes | None = None):
        self.store = store
        self._key = key
        self._cipher: Any = None
        self._run_key: bytes | None = None

    @property
    def _fernet(self) -> Any:
        # Made on first use, so a store that never holds a secret never makes a key file.
        if self._cipher is None:
            from cryptography.fernet import Fernet

            self._cipher = Fernet(_fernet_key(self._key if self._key is not None else load_key(self.store.url)))
        return self._cipher

    @classmethod
    def of(cls, store: Any) -> "Vault":
        """The vault of a store, made once per store object."""
        vault = store.__dict__.get("_vault")
        if vault is None:
            vault = store.__dict__["_vault"] = cls(store)
        return vault

    # Run tokens: what a run's scripts call the app back with (WM_TOKEN)

    def run_token(self, run_id: str) -> str:
        """The token the scripts of root run `run_id` use: `run.<id>.<signature>`.

        Signed with a key derived from the secret key, so any process holding the same
        MILLRACE_SECRET_KEY (the app, every worker) makes and accepts the same tokens.
        """
        return f"{RUN_TOKEN_PREFIX}{run_id}.{self._sign_run(run_id)}"

    def run_of_token(self, token: str) -> str | None:
        """The run id a well-signed run token names, else None (whether the run still
        runs is the caller's to check)."""
        if not token.startswith(RUN_TOKEN_PREFIX):
            return None
        run_id, _, signature = token[len(RUN_TOKEN_PREFIX):].rpartition(".")
        if not run_id or not hmac.compare_digest(self._sign_run(run_id), signature):
            return None
        return run_id

    def script_env(self, run: Any, key: str = "") -> dict[str, str]:
        """A run's scripts' WM_TOKEN (for `Services.run_env` of a worker process)."""
        return {"WM_TOKEN": self.run_token(getattr(run, "root_run_id", None) or run.id)}

    def _sign_run(self, run_id: str) -> str:
        if self._run_key is None:
            key = self._key if self._key is not None else load_key(self.store.url)
            self._run_key = hashlib.sha256(b"millrace run tokens\0" + _fernet_key(key)).digest()
        return hmac.new(self._run_key, f"run-token/{run_id}".encode(), hashlib.sha256).hexdigest()[:32]

    # Variables

    def set_variable(self, path: str, value: str | None = None, *, is_secret: bool | None = None,
                     description: str | None = None, workspace: str = "main") -> None:
        """Create or update a variable; only the fields given change."""
        _check_path(path, "variable")
        row = self.store.get_variable_row(path, workspace=workspace)
        secret = is_secret if is_secret is not None else bool(row and row.is_secret)
        if value is None and row is not None:
            value = self._plain(row)
        values: dict[str, Any] = {"is_secret": secret, "value": self._seal(str(value or ""), secret)}
        if description is not None or row is None:
            values["description"] = description or ""
        self.store.put_variable(path, workspace=workspace, **values)

    def variable(self, path: str, *, workspace: str = "main") -> dict[str, Any]:
        """A variable as shown to people: a secret's value is None.

        Raises:
            NotFound: no variable at `path`.
        """
        return _public_variable(self._variable_row(path, workspace))

    def list_variables(self, *, workspace: str = "main", path_start: str | None = None) -> list[dict[str, Any]]:
        """Every variable as shown to people (secret values left out)."""
        return [_public_variable(row) for row in self.store.list_variable_rows(workspace=workspace,
                                                                                path_start=path_start)]

    def variable_value(self, path: str, *, workspace: str = "main") -> str:
        """The value in clear, secrets decrypted: for the runtime only."""
        return self._plain(self._variable_row(path, workspace))

    def delete_variable(self, path: str, *, workspace: str = "main") -> None:
        self.store.delete_variable(path, workspace=workspace)

    def secret_values(self, *, workspace: str = "main") -> list[str]:
        """Every secret value of the workspace in clear, longest first (to mask logs)."""
        rows = self.store.list_variable_rows(workspace=workspace)
        values = {self._plain(row) for row in rows if row.is_secret}
        return sorted((v for v in values if len(v) >= MIN_MASKED_LENGTH), key=len, reverse=True)

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
        _check_path(path, "resource")
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
            return f"{LOOKUPS_NAME}[{_js_string(key)}]"

        text = _LOOKUP_CALL.sub(replace, expr)
        return text, ({LOOKUPS_NAME: values} if values else {})

    # Encryption

    def _variable_row(self, path: str, workspace: str) -> Any:
        row = self.store.get_variable_row(path, workspace=workspace)
        if row is None:
            raise NotFound(f"variable {path!r} does not exist in workspace {workspace!r}")
        return row

    def _seal(self, value: str, secret: bool) -> str:
        return self._fernet.encrypt(value.encode()).decode() if secret else value

    def _plain(self, row: Any) -> str:
        from cryptography.fernet import InvalidToken

        if not row.is_secret:
            return row.value
        try:
            return self._fernet.decrypt(row.value.encode()).decode()
        except InvalidToken:
            raise BadInput(f"secret variable {row.path} cannot be decrypted: it was saved with another key "
                           "(check MILLRACE_SECRET_KEY or the key file)") from None


def load_key(store_url: str) -> str:
    """`MILLRACE_SECRET_KEY`, else the key file, created (mode 0600) on first use."""
    given = os.environ.get("MILLRACE_SECRET_KEY")
    if given:
        return given
    path = key_path(store_url)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    from cryptography.fernet import Fernet

    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(key)
    return key


def key_path(store_url: str) -> Path:
    """Where the generated key lives: MILLRACE_DATA_DIR, the SQLite file's folder, or data/."""
    folder = os.environ.get("MILLRACE_DATA_DIR")
    if folder:
        return Path(folder) / KEY_FILE
    if store_url.startswith("sqlite:///") and store_url != "sqlite:///:memory:":
        return Path(store_url[len("sqlite:///"):]).parent / KEY_FILE
    return Path("data") / KEY_FILE


def _fernet_key(key: str | bytes) -> bytes:
    raw = key.encode() if isinstance(key, str) else key
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except ValueError:
        pass
    # A passphrase: derive a key from it.
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


def _public_variable(row: Any) -> dict[str, Any]:
    return {"path": row.path, "value": None if row.is_secret else row.value, "is_secret": row.is_secret,
            "description": row.description, "workspace_id": row.workspace, "is_oauth": False,
            "created_at": row.created_at, "updated_at": row.updated_at}


def _check_path(path: str, what: str) -> None:
    from engine.item_paths import check_item_path

    check_item_path(path, what)


def _is_reference(value: Any) -> bool:
    return isinstance(value, str) and value.startswith((VAR_PREFIX, RES_PREFIX))


def _json_path(parts: Any) -> str:
    text = "value"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _js_string(text: str) -> str:
    import json

    return json.dumps(text)
