"""Stored variables, resources, resource types and flow user states, as rows.

This part of the Store neither encrypts nor validates: `engine.vault.Vault` does,
and is what the rest of the engine and the app call.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Table, delete, select, update

from engine.errors import NotFound
from engine.item_paths import check_item_path
from engine.store.base import StoreBase, to_model, to_models
from engine.store.tables import FlowUserState, Resource, ResourceType, Variable

VARIABLES = Variable.__table__
RESOURCES = Resource.__table__
RESOURCE_TYPES = ResourceType.__table__
USER_STATES = FlowUserState.__table__

R = TypeVar("R", Variable, Resource)


class ResourceStore(StoreBase):
    """Rows of variables, resources and resource types, per workspace."""

    secret_writes = 0
    """Counts this object's writes of variables and resources: a masker re-reads the
    secrets when it changes (`engine.masking.Masker`)."""

    def put_variable(self, path: str, *, workspace: str = "main", **values: Any) -> None:
        """Insert or update a variable's row (value already encrypted when secret).

        Raises:
            ItemPathError: `path` is not an item path.
        """
        self._put(VARIABLES, workspace, check_item_path(path, "variable"), values)

    def get_variable_row(self, path: str, *, workspace: str = "main") -> Variable | None:
        return self._get(Variable, workspace, path)

    def list_variable_rows(self, *, workspace: str = "main", path_start: str | None = None) -> list[Variable]:
        return self._list(Variable, workspace, path_start)

    def delete_variable(self, path: str, *, workspace: str = "main") -> None:
        """Raises NotFound when there is no such variable."""
        self._delete_row(VARIABLES, workspace, path, "variable")

    def put_resource(self, path: str, *, workspace: str = "main", **values: Any) -> None:
        """Insert or update a resource's row (the value already validated).

        Raises:
            ItemPathError: `path` is not an item path.
        """
        self._put(RESOURCES, workspace, check_item_path(path, "resource"), values)

    def get_resource_row(self, path: str, *, workspace: str = "main") -> Resource | None:
        return self._get(Resource, workspace, path)

    def list_resource_rows(self, *, workspace: str = "main", resource_type: str | None = None,
                           path_start: str | None = None) -> list[Resource]:
        rows = self._list(Resource, workspace, path_start)
        return [row for row in rows if resource_type is None or row.resource_type == resource_type]

    def delete_resource(self, path: str, *, workspace: str = "main") -> None:
        """Raises NotFound when there is no such resource."""
        self._delete_row(RESOURCES, workspace, path, "resource")

    def put_resource_type(self, name: str, schema: Any, description: str = "", *, workspace: str = "main") -> None:
        """Insert or replace a custom resource type."""
        with self.db.transaction() as conn:
            conn.execute(delete(RESOURCE_TYPES).where(RESOURCE_TYPES.c.workspace == workspace,
                                                      RESOURCE_TYPES.c.name == name))
            conn.execute(RESOURCE_TYPES.insert().values(workspace=workspace, name=name, type_schema=schema,
                                                        description=description, created_at=self.clock.now()))

    def delete_resource_type(self, name: str, *, workspace: str = "main") -> None:
        """Raises NotFound when there is no such custom type."""
        with self.db.transaction() as conn:
            gone = conn.execute(delete(RESOURCE_TYPES).where(RESOURCE_TYPES.c.workspace == workspace,
                                                             RESOURCE_TYPES.c.name == name)).rowcount
        if not gone:
            raise NotFound(f"resource type {name!r} does not exist in workspace {workspace!r}")

    def list_resource_type_rows(self, *, workspace: str = "main") -> list[ResourceType]:
        stmt = select(RESOURCE_TYPES).where(RESOURCE_TYPES.c.workspace == workspace).order_by(RESOURCE_TYPES.c.name)
        with self.db.autocommit() as conn:
            return to_models(ResourceType, conn.execute(stmt))

    def set_user_state(self, run_id: str, key: str, value: Any) -> None:
        """Set one key of a run's user state."""
        stmt = self.db.insert(USER_STATES).values(run_id=run_id, key=key, value=value)
        stmt = stmt.on_conflict_do_update(index_elements=["run_id", "key"], set_={"value": value})
        with self.db.autocommit() as conn:
            conn.execute(stmt)

    def get_user_state(self, run_id: str, key: str) -> Any:
        """One key of a run's user state, or None."""
        stmt = select(USER_STATES.c.value).where(USER_STATES.c.run_id == run_id, USER_STATES.c.key == key)
        with self.db.autocommit() as conn:
            return conn.execute(stmt).scalar()

    def _put(self, table: Table, workspace: str, path: str, values: dict[str, Any]) -> None:
        now = self.clock.now()
        where = (table.c.workspace == workspace, table.c.path == path)
        with self.db.transaction() as conn:
            if conn.execute(select(table.c.path).where(*where)).first() is None:
                conn.execute(table.insert().values(workspace=workspace, path=path, created_at=now,
                                                   updated_at=now, **values))
            else:
                conn.execute(update(table).where(*where).values(updated_at=now, **values))
        self.secret_writes += 1

    def _get(self, model: type[R], workspace: str, path: str) -> R | None:
        table = model.__table__
        stmt = select(table).where(table.c.workspace == workspace, table.c.path == path)
        with self.db.autocommit() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else to_model(model, row)

    def _list(self, model: type[R], workspace: str, path_start: str | None) -> list[R]:
        table = model.__table__
        stmt = select(table).where(table.c.workspace == workspace)
        if path_start:
            stmt = stmt.where(table.c.path.startswith(path_start, autoescape=True))
        with self.db.autocommit() as conn:
            return to_models(model, conn.execute(stmt.order_by(table.c.path)))

    def _delete_row(self, table: Table, workspace: str, path: str, what: str) -> None:
        where = (table.c.workspace == workspace, table.c.path == path)
        with self.db.autocommit() as conn:
            if conn.execute(delete(table).where(*where)).rowcount == 0:
                raise NotFound(f"{what} {path!r} does not exist in workspace {workspace!r}")
        self.secret_writes += 1
