"""Variables: named values of a workspace, secret ones encrypted by the vault.

A secret's value is shown to nobody once saved (`variable`, `list_variables` leave it
out); the runtime reads it in clear with `variable_value`. Paths look like Windmill's:
`u/<user>/<name>` or `f/<folder>/<name>`.
"""

from __future__ import annotations

from typing import Any

from engine.errors import NotFound
from engine.masking import masked_values


class Variables:
    """The variable half of `engine.vault.Vault` (it supplies `store`, `_seal` and `_plain`)."""

    store: Any

    def set_variable(self, path: str, value: str | None = None, *, is_secret: bool | None = None,
                     description: str | None = None, workspace: str = "main") -> None:
        """Create or update a variable; only the fields given change."""
        check_path(path, "variable")
        row = self.store.get_variable_row(path, workspace=workspace)
        secret = is_secret if is_secret is not None else bool(row and row.is_secret)
        if value is None and row is not None:
            value = self._plain(row)
        values: dict[str, Any] = {"is_secret": secret, "value": self._seal(str(value or ""), secret)}
        if description is not None or row is None:
            values["description"] = description or ""
        self.store.put_variable(path, workspace=workspace, **values)

    def set_sealed_variable(self, path: str, sealed: str, *, description: str | None = None,
                            workspace: str = "main") -> None:
        """Create or update a secret from its ciphertext, as this vault sealed it (what a
        pull exported): kept as it is, so a round trip changes nothing.

        Raises:
            BadInput: `sealed` is not a ciphertext of this vault's key.
        """
        check_path(path, "variable")
        row = self.store.get_variable_row(path, workspace=workspace)
        self._plain(_Sealed(path, sealed))  # refuses a value sealed with another key
        values: dict[str, Any] = {"is_secret": True, "value": sealed}
        if description is not None or row is None:
            values["description"] = description or ""
        self.store.put_variable(path, workspace=workspace, **values)

    def sealed_value(self, path: str, *, workspace: str = "main") -> str:
        """A variable's value as stored: a secret's ciphertext, a plain variable's value."""
        return self._variable_row(path, workspace).value

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
        """Every secret value of the workspace in clear, as `engine.masking` wants them."""
        rows = self.store.list_variable_rows(workspace=workspace)
        return masked_values(self._plain(row) for row in rows if row.is_secret)

    def _variable_row(self, path: str, workspace: str) -> Any:
        row = self.store.get_variable_row(path, workspace=workspace)
        if row is None:
            raise NotFound(f"variable {path!r} does not exist in workspace {workspace!r}")
        return row


def check_path(path: str, what: str) -> None:
    """Raises ItemPathError (a BadInput) unless `path` is a valid item path (engine.item_paths)."""
    from engine.item_paths import check_item_path

    check_item_path(path, what)


class _Sealed:
    """A ciphertext to check, shaped as the variable row `_plain` reads."""

    is_secret = True

    def __init__(self, path: str, value: str):
        self.path, self.value = path, value


def _public_variable(row: Any) -> dict[str, Any]:
    return {"path": row.path, "value": None if row.is_secret else row.value, "is_secret": row.is_secret,
            "description": row.description, "workspace_id": row.workspace, "is_oauth": False,
            "created_at": row.created_at, "updated_at": row.updated_at}
