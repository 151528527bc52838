"""Saved flows and scripts: every save is a new numbered version of a path."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Table, and_, delete, func, insert, or_, select, text

from engine.errors import NotFound
from engine.item_paths import check_item_path
from engine.store.base import StoreBase, to_model, to_models
from engine.store.tables import FlowVersion, ScriptVersion

FLOWS = FlowVersion.__table__
SCRIPTS = ScriptVersion.__table__

V = TypeVar("V", FlowVersion, ScriptVersion)


class CatalogStore(StoreBase):
    """Versioned flow documents and scripts, per workspace."""

    def save_flow(
        self,
        path: str,
        document: Any,
        summary: str = "",
        created_by: str | None = None,
        *,
        workspace: str = "main",
    ) -> int:
        """Save a flow document as the next version of `path` and return that version.

        Raises:
            ItemPathError: `path` is not an item path (`f/folder/name`, `u/user/name`).
        """
        check_item_path(path, "flow")
        values = {"document": document, "summary": summary, "created_by": created_by}
        return self._save_version(FLOWS, workspace, path, values)

    def get_flow(
        self, path: str, version: int | None = None, *, workspace: str = "main"
    ) -> FlowVersion | None:
        """A version of a flow (the latest when `version` is None), or None."""
        return self._get_version(FlowVersion, workspace, path, version)

    def list_flows(self, search: str | None = None, *, workspace: str = "main") -> list[FlowVersion]:
        """The latest version of every flow, by path; `search` matches path or summary."""
        return self._list_latest(FlowVersion, workspace, search)

    def list_flow_versions(self, path: str, *, workspace: str = "main") -> list[FlowVersion]:
        """Every version of a flow, newest first."""
        return self._list_versions(FlowVersion, workspace, path)

    def delete_flow(self, path: str, *, workspace: str = "main") -> int:
        """Delete every version of a flow and return how many there were.

        Raises:
            NotFound: No flow has this path.
        """
        return self._delete(FLOWS, workspace, path, "flow")

    def save_script(
        self,
        path: str,
        language: str,
        content: str,
        schema: Any = None,
        summary: str = "",
        *,
        lock: str | None = None,
        dedicated_worker: bool = False,
        workspace: str = "main",
    ) -> int:
        """Save a script (with the lock of its dependencies, and whether it runs in dedicated
        mode) as the next version of `path` and return that version.

        Raises:
            ItemPathError: `path` is not an item path (`f/folder/name`, `u/user/name`).
        """
        check_item_path(path, "script")
        values = {"language": language, "content": content, "args_schema": schema, "summary": summary, "lock": lock,
                  "dedicated_worker": dedicated_worker}
        return self._save_version(SCRIPTS, workspace, path, values)

    def get_script(
        self, path: str, version: int | None = None, *, workspace: str = "main"
    ) -> ScriptVersion | None:
        """A version of a script (the latest when `version` is None), or None."""
        return self._get_version(ScriptVersion, workspace, path, version)

    def list_scripts(
        self, search: str | None = None, *, workspace: str = "main"
    ) -> list[ScriptVersion]:
        """The latest version of every script, by path; `search` matches path or summary."""
        return self._list_latest(ScriptVersion, workspace, search)

    def list_script_versions(self, path: str, *, workspace: str = "main") -> list[ScriptVersion]:
        """Every version of a script, newest first."""
        return self._list_versions(ScriptVersion, workspace, path)

    def delete_script(self, path: str, *, workspace: str = "main") -> int:
        """Delete every version of a script and return how many there were.

        Raises:
            NotFound: No script has this path.
        """
        return self._delete(SCRIPTS, workspace, path, "script")

    def _save_version(self, table: Table, workspace: str, path: str, values: dict[str, Any]) -> int:
        with self.db.transaction() as conn:
            if self.db.dialect == "postgresql":
                # Concurrent saves of one path would pick the same next number; SQLite's
                # BEGIN IMMEDIATE already serializes them.
                lock = text("SELECT pg_advisory_xact_lock(hashtext(:key))")
                conn.execute(lock, {"key": f"{table.name}:{workspace}:{path}"})
            latest = select(func.max(table.c.version)).where(*_at(table, workspace, path))
            version = (conn.execute(latest).scalar() or 0) + 1
            row = {**values, "workspace": workspace, "path": path, "version": version}
            conn.execute(insert(table).values(created_at=self.clock.now(), **row))
        return version

    def _get_version(self, model: type[V], workspace: str, path: str, version: int | None) -> V | None:
        table = model.__table__
        stmt = select(table).where(*_at(table, workspace, path))
        if version is None:
            stmt = stmt.order_by(table.c.version.desc()).limit(1)
        else:
            stmt = stmt.where(table.c.version == version)
        with self.db.autocommit() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else to_model(model, row)

    def _list_latest(self, model: type[V], workspace: str, search: str | None) -> list[V]:
        table = model.__table__
        latest = (
            select(table.c.path, func.max(table.c.version).label("version"))
            .where(table.c.workspace == workspace)
            .group_by(table.c.path)
            .subquery()
        )
        on = and_(table.c.path == latest.c.path, table.c.version == latest.c.version)
        stmt = select(table).join(latest, on).where(table.c.workspace == workspace)
        if search:
            needle = search.lower()
            stmt = stmt.where(
                or_(
                    func.lower(table.c.path).contains(needle, autoescape=True),
                    func.lower(table.c.summary).contains(needle, autoescape=True),
                )
            )
        with self.db.autocommit() as conn:
            return to_models(model, conn.execute(stmt.order_by(table.c.path)))

    def _list_versions(self, model: type[V], workspace: str, path: str) -> list[V]:
        table = model.__table__
        stmt = select(table).where(*_at(table, workspace, path)).order_by(table.c.version.desc())
        with self.db.autocommit() as conn:
            return to_models(model, conn.execute(stmt))

    def _delete(self, table: Table, workspace: str, path: str, what: str) -> int:
        with self.db.autocommit() as conn:
            count = conn.execute(delete(table).where(*_at(table, workspace, path))).rowcount
        if count == 0:
            raise NotFound(f"{what} {path!r} does not exist in workspace {workspace!r}")
        return count


def _at(table: Table, workspace: str, path: str) -> tuple[Any, Any]:
    return table.c.workspace == workspace, table.c.path == path
