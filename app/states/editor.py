"""State of the flow editor: the document being edited and its canvas, the input schema
and the browser's draft; the editor's other parts are substates of this one.

The document lives in a backend var here; every edit goes through `app.views.flow_ops` /
`app.views.step_form` (pure) and then `_show`, which re-lays the canvas out when the
shape changed. The parts, each a substate that reads and writes the document through
this state:

- `EditorPanelState` (app/states/editor_panel.py): the selected step's panel;
- `EditorPreviewState` (app/states/editor_preview.py): the Test flow form and live previews;
- `EditorHistoryState` (app/states/editor_history.py): undo/redo of every edit, and the
  saved versions with their diffs.

Parts call each other through `_`-prefixed methods: the underscore keeps them off the
events a browser may send.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import reflex as rx

from app import settings
from app.services import catalog
from app.services.engine_service import service
from app.services.offloop import DatabaseUnavailable, off_loop
from app.states.guard import admin_only
from app.states.session import record
from app.views import drafts, flow_graph, flow_ops
from components import schema_fields

if TYPE_CHECKING:
    from app.states.editor_history import EditorHistoryState
    from app.states.editor_panel import EditorPanelState
    from app.states.editor_preview import EditorPreviewState


class EditorState(rx.State):
    """One flow being edited: its document, canvas, input schema and draft."""

    path: str = ""
    found: bool = True
    summary: str = ""
    version: int = 0
    dedicated: bool = False  # the flow's dedicated_worker: its Python steps run in warm workers
    dirty: bool = False
    notice: str = ""
    problem: str = ""
    warning: str = ""  # what the last move broke: a step now reads a result it cannot have yet
    view: str = "graph"

    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    slots: list[dict[str, Any]] = []
    graph_version: int = 0

    schema_rows: list[dict[str, str]] = []
    schema_problems: dict[str, str] = {}
    schema_json: str = ""

    draft_json: str = ""  # the document as edited, kept by the browser while unsaved
    draft_cleared: int = 0  # changed to make the browser forget the flow's draft
    draft_offer: str = ""  # a draft the browser kept, offered for restoring (what it is)
    opened: int = 0  # counts loads: the browser then looks for the flow's draft

    _document: dict[str, Any] = {}
    _draft: dict[str, Any] = {}

    # ---- the parts ----------------------------------------------------------------------------

    async def _panel(self) -> EditorPanelState:
        from app.states.editor_panel import EditorPanelState  # a substate: its module imports this one

        return await self.get_state(EditorPanelState)

    async def _preview(self) -> EditorPreviewState:
        from app.states.editor_preview import EditorPreviewState  # a substate: its module imports this one

        return await self.get_state(EditorPreviewState)

    async def _history(self) -> EditorHistoryState:
        from app.states.editor_history import EditorHistoryState  # a substate: its module imports this one

        return await self.get_state(EditorHistoryState)

    # ---- loading and saving ---------------------------------------------------------------

    @rx.event
    async def load(self) -> None:
        """Open the flow named by the URL (/flows/edit/<path>)."""
        url_path = self.router.url.path.rstrip("/")
        self.path = url_path.split("/flows/edit/", 1)[-1] if "/flows/edit/" in url_path else ""
        preview, panel, history = await self._preview(), await self._panel(), await self._history()
        preview._reset_preview()
        self.view, self.notice, self.problem = "graph", "", ""
        panel.selected = ""
        history._forget()
        try:
            document, version = await off_loop(_latest, self.path)
        except DatabaseUnavailable:
            raise
        except Exception:  # NotFound: any failure to read means "no such flow" here
            self.found, self._document = False, {}
            await self._show(relayout=True)
            return
        self.found, self.version, self.dirty = True, version, False
        self._document = document
        preview._forget_results()
        self.draft_json, self.draft_offer, self._draft = "", "", {}
        await self._show(relayout=True)
        await preview._load_resources()
        self._load_schema()
        await history._load_versions()
        self.opened += 1

    @rx.event
    @admin_only("save flows")
    async def save(self) -> None:
        """Save the document as a new version of the flow."""
        try:
            self.version = await off_loop(_save, self.path, self._plain_document())
        except DatabaseUnavailable:
            raise
        except Exception as exc:  # BadInput / CatalogError: show what is wrong
            self.problem = f"Not saved: {exc}"
            return
        await self._adopt_locks()
        self.dirty, self.problem, self.notice = False, "", f"Saved version {self.version}"
        self.draft_json, self.draft_offer, self.draft_cleared = "", "", self.draft_cleared + 1
        await (await self._history())._load_versions()

    async def _adopt_locks(self) -> None:
        """Take the locks the save made: shown in the step panel, kept by the next save."""
        document = copy.deepcopy(self._document)
        locks = await off_loop(catalog.step_locks, service.store, self.path, self.version)
        for step_id, lock in locks.items():
            try:
                _, _, module = flow_ops.find_step(document, step_id)
            except flow_ops.EditError:
                continue
            module.setdefault("value", {})["lock"] = lock
        self._document = document
        panel = await self._panel()
        if panel.selected:
            await panel._refresh_panel(reload_code=False)

    @rx.event
    async def set_view(self, view: str) -> None:
        """Show the graph, the input schema or the version history."""
        self.view = view
        if view == "history":
            await (await self._history())._load_versions()

    # ---- input schema -------------------------------------------------------------------------

    @rx.event
    async def add_schema_field(self) -> None:
        (await self._history())._push_undo()
        await self._set_schema_rows(schema_fields.add_field(self.schema_rows))

    @rx.event
    async def remove_schema_field(self, index: str) -> None:
        (await self._history())._push_undo()
        await self._set_schema_rows(schema_fields.remove_field(self.schema_rows, index))

    @rx.event
    async def set_schema_field(self, index: str, key: str, value: Any) -> None:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        (await self._history())._typed(f"schema:{index}:{key}")
        await self._set_schema_rows(schema_fields.set_field(self.schema_rows, index, key, text))

    async def _set_schema_rows(self, rows: list[dict[str, str]]) -> None:
        base = copy.deepcopy(self._document.get("schema"))
        schema, self.schema_problems = schema_fields.to_schema(rows, base)
        self.schema_rows, self.schema_json = rows, schema_fields.schema_text(schema)
        self._document = {**self._plain_document(), "schema": schema}
        self._touch()
        await self._show(relayout=False)
        await (await self._panel())._refresh_picks()

    def _load_schema(self) -> None:
        schema = copy.deepcopy(self._document.get("schema")) or schema_fields.empty_schema()
        self.schema_rows, self.schema_problems = schema_fields.to_rows(schema), {}
        self.schema_json = schema_fields.schema_text(schema)

    # ---- canvas gestures --------------------------------------------------------------------

    @rx.event
    async def drop_item(self, drop: dict[str, Any]) -> None:
        """A palette item dropped on a slot: create the step there and select it."""
        script_path = await off_loop(_first_script_path) if drop.get("kind") == "script" else ""
        try:
            document, step_id = flow_ops.insert_step(self._document, str(drop.get("kind")),
                                                     str(drop.get("container", "")), int(drop.get("index", 0)),
                                                     script_path=script_path)
        except (flow_ops.EditError, ValueError) as exc:
            self.problem = str(exc)
            await self._show(relayout=True)
            return
        await self._edit(document)
        await (await self._panel())._select(step_id)

    @rx.event
    async def move_step(self, move: dict[str, Any]) -> None:
        """A step dragged onto another slot."""
        try:
            document = flow_ops.move_step(self._document, str(move.get("step_id")),
                                          str(move.get("container", "")), int(move.get("index", 0)))
        except (flow_ops.EditError, ValueError) as exc:
            self.problem = str(exc)
            await self._show(relayout=True)
            return
        before = set(flow_ops.early_reads(self._document))
        await self._edit(document)
        self.warning = "; ".join(read for read in flow_ops.early_reads(document) if read not in before)

    @rx.event
    async def set_dedicated(self, value: bool) -> None:
        """Switch the flow's dedicated mode (an undoable edit, saved with the flow)."""
        document = {k: v for k, v in self._document.items() if k != "dedicated_worker"}
        await self._edit({**document, "dedicated_worker": True} if value else document)

    # ---- drafts -------------------------------------------------------------------------------

    @rx.event
    def offer_draft(self, kept: str) -> None:
        """The browser kept a draft of this flow: offer it when it holds other edits."""
        try:
            document, what = drafts.read(kept)
        except drafts.BadDraft:
            self.draft_cleared += 1
            return
        if self.found and drafts.differs(document, self._document):
            self._draft, self.draft_offer = document, what

    @rx.event
    async def restore_draft(self) -> None:
        """Put the offered draft in the editor (an undoable, unsaved edit)."""
        if not self._draft:
            return
        await self._replace_document(copy.deepcopy(self._draft))
        self._draft, self.draft_offer, self.notice = {}, "", "Draft restored: save to keep it"

    @rx.event
    def discard_draft(self) -> None:
        self._draft, self.draft_offer, self.draft_cleared = {}, "", self.draft_cleared + 1

    # ---- edits of the document ----------------------------------------------------------------

    async def _edit(self, document: dict[str, Any]) -> None:
        """Replace the document (a structural edit: undoable, re-laid out)."""
        (await self._history())._push_undo()
        self._document = document
        self.problem, self.notice, self.warning = "", "", ""
        self._touch()
        await self._show(relayout=True)

    async def _replace_document(self, document: dict[str, Any]) -> None:
        """Put a whole other document in the editor (a version, a draft): undoable, with
        its schema shown and no step selected."""
        await self._edit(document)
        self._load_schema()
        await (await self._panel())._select("")

    def _touch(self) -> None:
        """The document changed: it is unsaved, and its draft is kept in the browser."""
        self.dirty, self.notice = True, ""
        self.draft_json = drafts.as_text(self._document)

    async def _show(self, *, relayout: bool) -> None:
        """Derive what the page shows from the document."""
        self.summary = str(self._document.get("summary") or self.path)
        self.dedicated = self._document.get("dedicated_worker") is True
        if relayout:
            graph = flow_graph.build_graph(self._document) if self._document else flow_graph.Graph()
            self.nodes, self.edges, self.slots = graph.nodes, graph.edges, graph.slots
            self.graph_version += 1
        (await self._preview())._follow_schema(self._document.get("schema") or {})

    def _plain_document(self) -> dict[str, Any]:
        """The document as plain dicts (state hands out change-tracking proxies)."""
        return copy.deepcopy(self._document)


def _latest(path: str) -> tuple[dict[str, Any], int]:
    """The flow's latest document and its version (NotFound when there is none)."""
    document = catalog.load_document(service.store, path)
    row = service.store.get_flow(path, workspace=settings.WORKSPACE)
    return document, row.version if row else 0


def _save(path: str, document: dict[str, Any]) -> int:
    """Save the document as the flow's next version (audited); the version."""
    version = catalog.save_flow(service.store, path, document)
    record("flow.saved", path, f"version {version}")
    return version


def _first_script_path() -> str:
    scripts = service.store.list_scripts(workspace=settings.WORKSPACE)
    return scripts[0].path if scripts else ""
