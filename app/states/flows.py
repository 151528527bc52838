"""State of the flows list: search, and create, import, export, duplicate, delete."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.services import catalog, flow_upload
from app.views import present
from app import routes, settings
from app.services.engine_service import service
from app.services.offloop import off_loop
from app.states.guard import admin_only
from app.states.session import record

DIALOGS = ("new", "import", "duplicate", "delete")


class FlowsState(rx.State):
    """The flows (latest versions), the search text, and the one open dialog."""

    flows: list[dict[str, str]] = []
    query: str = ""
    dialog: str = ""  # "" or one of DIALOGS
    target: str = ""  # the flow a duplicate or delete dialog acts on
    problem: str = ""  # what is wrong with the open dialog's input
    import_text: str = ""  # text put into the import dialog by an uploaded file
    import_key: int = 0

    @rx.event
    async def load(self) -> None:
        self.flows = await off_loop(_flow_rows)

    @rx.event
    def set_query(self, value: str) -> None:
        self.query = value

    @rx.var
    def visible(self) -> list[dict[str, str]]:
        """The flows whose path or summary contains the search text (any case)."""
        needle = self.query.strip().lower()
        if not needle:
            return self.flows
        return [row for row in self.flows if needle in row["path"].lower() or needle in row["summary"].lower()]

    @rx.event
    def open_dialog(self, name: str, target: str = "") -> None:
        self.dialog = name if name in DIALOGS else ""
        self.target, self.problem = target, ""
        if name == "import":
            self.import_text, self.import_key = "", self.import_key + 1

    @rx.event
    def dialog_open_changed(self, is_open: bool) -> None:
        if not is_open:
            self.dialog, self.problem = "", ""

    @rx.event
    @admin_only("create flows")
    async def create(self, form_data: dict[str, Any]):
        """A new empty flow at the path, opened in the editor."""
        path = str(form_data.get("path") or "")
        return await self._act("flow.saved", path, "created",
                               lambda: catalog.new_flow(service.store, path, str(form_data.get("summary") or "")),
                               lambda: routes.flow_editor_url(catalog.check_path(path)))

    @rx.event
    @admin_only("import flows")
    async def import_flow(self, form_data: dict[str, Any]):
        """Save pasted (or uploaded) OpenFlow JSON or YAML at the path."""
        path = str(form_data.get("path") or "")
        return await self._act("flow.saved", path, "imported",
                               lambda: catalog.import_flow(service.store, path, str(form_data.get("text") or "")))

    @rx.event
    @admin_only("duplicate flows")
    async def duplicate(self, form_data: dict[str, Any]):
        """Copy the target flow's latest version to a new path."""
        path, target = str(form_data.get("path") or ""), self.target
        return await self._act("flow.saved", path, f"duplicated from {target}",
                               lambda: catalog.duplicate_flow(service.store, target, path))

    @rx.event
    @admin_only("delete flows")
    async def delete(self):
        """Delete every version of the target flow (after the dialog's confirmation)."""
        target = self.target
        return await self._act("flow.deleted", target, "",
                               lambda: service.store.delete_flow(target, workspace=settings.WORKSPACE))

    async def _act(self, audit_action: str, target: str, detail: str, action: Any, then: Any = None):
        """Carry out an admin's change of the catalogue (off the web loop), audit it, close the dialog."""
        from engine import BadInput, NotFound

        try:
            await off_loop(action)
        except (catalog.CatalogError, BadInput, NotFound) as exc:
            self.problem = str(exc)
            return None
        await off_loop(record, audit_action, target.strip(), detail)
        self.dialog, self.problem = "", ""
        await self.load()
        return rx.redirect(then()) if then is not None else None

    @rx.event
    async def upload(self, files: list[rx.UploadFile]) -> None:
        """Put an uploaded flow's text into the import dialog, its `!inline` files read in
        (a .zip of the flow's folder, or flow.yaml chosen together with its files)."""
        uploaded = [(file.filename or "", await file.read()) for file in files[:flow_upload.MAX_FILES]]
        try:
            self.import_text, self.problem = flow_upload.flow_text(uploaded)
        except flow_upload.UploadError as exc:
            self.problem = str(exc)
        self.import_key += 1

    @rx.event
    async def export(self, path: str, fmt: str):
        """Download the flow's latest version as JSON or YAML."""
        from engine import NotFound

        try:
            document = await off_loop(catalog.load_document, service.store, path)
        except NotFound as exc:
            return rx.toast.error(str(exc))
        name = path.rsplit("/", 1)[-1]
        suffix = "json" if fmt == "json" else "yaml"
        return rx.download(data=catalog.export_text(document, fmt), filename=f"{name}.flow.{suffix}")


def _flow_rows() -> list[dict[str, str]]:
    return [present.flow_row(row) for row in service.store.list_flows(workspace=settings.WORKSPACE)]
