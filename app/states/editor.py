"""State of the flow editor: the document being edited, its canvas, the step panel and
live previews.

The document lives in a backend var; every edit goes through `app.views.flow_ops` /
`app.views.step_form` (pure) and then `_show`, which re-lays the canvas out when the shape
changed. Previews are background events that follow the engine's events of their run
and push each step's status, logs and result as it happens.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from typing import Any

import reflex as rx

from app.services import catalog
from app.views import drafts, flow_graph, flow_ops, preview, step_form, versions
from components import schema_fields
from app import settings
from app.services.engine_service import FINISHED, service
from app.services.offloop import DatabaseUnavailable, off_loop, when_available
from app.states.guard import admin_only, caller
from app.states.session import record
from app.views.resource_choices import resource_choices
from components.schema_form import SchemaFormState, field_texts, parse_form

UNDO_DEPTH = 50
TYPING_SECONDS = 1.5
"""Edits of one field this close together are one step of the history (a word typed,
not a letter)."""
PREVIEW_SECONDS = 300.0


class EditorState(SchemaFormState, rx.State):
    """One flow being edited."""

    path: str = ""
    found: bool = True
    summary: str = ""
    version: int = 0
    dirty: bool = False
    notice: str = ""
    problem: str = ""

    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    slots: list[dict[str, Any]] = []
    graph_version: int = 0
    undo_depth: int = 0

    selected: str = ""
    sel_kind: str = ""
    sel_language: str = ""
    sel_summary: str = ""
    sel_script_path: str = ""
    warning: str = ""  # what the last move broke: a step now reads a result it cannot have yet
    sel_lock: str = ""  # the step's dependencies as last saved (read-only)
    id_draft: str = ""
    id_error: str = ""
    code_loaded: str = ""
    code_key: int = 0
    code_error: str = ""
    inputs: list[dict[str, str]] = []
    input_errors: dict[str, str] = {}
    options: dict[str, str] = {}
    option_error: str = ""
    container: dict[str, str] = {}
    branches: list[dict[str, str]] = []
    picks: list[dict[str, str]] = []

    args_text: dict[str, str] = {}  # the Test flow form's texts, by input (the form is the schema's)
    preview_running: bool = False
    preview_mode: str = ""
    preview_run_id: str = ""
    preview_status: str = ""
    preview_error: str = ""
    preview_rows: list[dict[str, str]] = []
    statuses: dict[str, str] = {}
    durations: dict[str, str] = {}

    view: str = "graph"
    schema_rows: list[dict[str, str]] = []
    schema_problems: dict[str, str] = {}
    schema_json: str = ""
    history: list[dict[str, str]] = []
    diff_from: str = ""
    diff_to: str = ""
    diff: list[dict[str, str]] = []
    diff_summary: str = ""

    draft_json: str = ""  # the document as edited, kept by the browser while unsaved
    draft_cleared: int = 0  # changed to make the browser forget the flow's draft
    draft_offer: str = ""  # a draft the browser kept, offered for restoring (what it is)
    opened: int = 0  # counts loads: the browser then looks for the flow's draft

    sel_in_loop: bool = False  # the selected step is inside a loop: it reads flow_input.iter
    iter_text: str = ""  # the iteration value "Test this step" gives it (JSON)

    _document: dict[str, Any] = {}
    _undo: list[dict[str, Any]] = []  # documents before each edit, the latest last
    _redo: list[dict[str, Any]] = []  # documents undone, the latest last
    _typing: tuple[str, float] = ("", 0.0)  # the field being edited, when last
    redo_depth: int = 0
    _iters: dict[str, Any] = {}  # step id -> its iteration value in the last preview
    _draft: dict[str, Any] = {}
    _results: dict[str, Any] = {}

    # ---- loading and saving ---------------------------------------------------------------

    @rx.event
    async def load(self) -> None:
        """Open the flow named by the URL (/flows/edit/<path>)."""
        url_path = self.router.url.path.rstrip("/")
        self.path = url_path.split("/flows/edit/", 1)[-1] if "/flows/edit/" in url_path else ""
        self._reset_preview()
        self.view = "graph"
        self.selected, self.notice, self.problem = "", "", ""
        self._undo, self._redo, self.undo_depth, self.redo_depth, self._typing = [], [], 0, 0, ("", 0.0)
        try:
            document, version = await off_loop(_latest, self.path)
        except DatabaseUnavailable:
            raise
        except Exception:  # NotFound: any failure to read means "no such flow" here
            self.found, self._document = False, {}
            self._show(relayout=True)
            return
        self.found, self.version, self.dirty = True, version, False
        self._document = document
        self._results, self._iters = {}, {}
        self.draft_json, self.draft_offer, self._draft = "", "", {}
        self._show(relayout=True)
        self.form_resources = await off_loop(resource_choices, self.form_schema)
        self._load_schema()
        await self._load_history()
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
        await self._load_history()

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
        if self.selected:
            self._refresh_panel(reload_code=False)

    @rx.event
    async def set_view(self, view: str) -> None:
        """Show the graph, the input schema or the version history."""
        self.view = view
        if view == "history":
            await self._load_history()

    # ---- input schema -------------------------------------------------------------------------

    @rx.event
    def add_schema_field(self) -> None:
        self._push_undo()
        self._set_schema_rows(schema_fields.add_field(self.schema_rows))

    @rx.event
    def remove_schema_field(self, index: str) -> None:
        self._push_undo()
        self._set_schema_rows(schema_fields.remove_field(self.schema_rows, index))

    @rx.event
    def set_schema_field(self, index: str, key: str, value: Any) -> None:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        self._typed(f"schema:{index}:{key}")
        self._set_schema_rows(schema_fields.set_field(self.schema_rows, index, key, text))

    def _set_schema_rows(self, rows: list[dict[str, str]]) -> None:
        base = copy.deepcopy(self._document.get("schema"))
        schema, self.schema_problems = schema_fields.to_schema(rows, base)
        self.schema_rows, self.schema_json = rows, schema_fields.schema_text(schema)
        self._document = {**self._plain_document(), "schema": schema}
        self._touch()
        self._show(relayout=False)
        self._refresh_picks()

    def _load_schema(self) -> None:
        schema = copy.deepcopy(self._document.get("schema")) or schema_fields.empty_schema()
        self.schema_rows, self.schema_problems = schema_fields.to_rows(schema), {}
        self.schema_json = schema_fields.schema_text(schema)

    # ---- versions -------------------------------------------------------------------------------

    @rx.event
    async def pick_diff(self, side: str, version: str) -> None:
        """Compare from (`side="from"`) or to (`side="to"`) another saved version."""
        if side == "from":
            self.diff_from = version
        else:
            self.diff_to = version
        await self._diff()

    @rx.event
    async def restore_version(self, version: str) -> None:
        """Put a saved version in the editor (an undoable edit; saving makes it the latest)."""
        row = await off_loop(service.store.get_flow, self.path, int(version), workspace=settings.WORKSPACE)
        if row is None:
            return
        self._edit(copy.deepcopy(dict(row.document or {})))
        self._load_schema()
        await self._select("")
        self.view, self.notice = "graph", f"Loaded version {version}: save to make it the latest"

    async def _load_history(self) -> None:
        """The saved versions, comparing the latest two."""
        rows = await off_loop(service.store.list_flow_versions, self.path, workspace=settings.WORKSPACE) \
            if self.path else []
        self.history = versions.version_rows(rows)
        numbers = [row["version"] for row in self.history]
        self.diff_to = numbers[0] if numbers else ""
        self.diff_from = numbers[1] if len(numbers) > 1 else self.diff_to
        await self._diff()

    async def _diff(self) -> None:
        documents = await off_loop(_documents, self.path, [self.diff_from, self.diff_to])
        if None in documents:
            self.diff, self.diff_summary = [], ""
            return
        old, new = documents
        self.diff = versions.diff_rows(old, new)
        self.diff_summary = versions.diff_summary(self.diff)

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
            self._show(relayout=True)
            return
        self._edit(document)
        await self._select(step_id)

    @rx.event
    def move_step(self, move: dict[str, Any]) -> None:
        """A step dragged onto another slot."""
        try:
            document = flow_ops.move_step(self._document, str(move.get("step_id")),
                                          str(move.get("container", "")), int(move.get("index", 0)))
        except (flow_ops.EditError, ValueError) as exc:
            self.problem = str(exc)
            self._show(relayout=True)
            return
        before = set(flow_ops.early_reads(self._document))
        self._edit(document)
        self.warning = "; ".join(read for read in flow_ops.early_reads(document) if read not in before)

    @rx.event
    async def select(self, step_id: str) -> None:
        await self._select(step_id)

    @rx.event
    async def delete_step(self, step_id: str) -> None:
        """Delete a step (the selected one when `step_id` is empty); Undo brings it back."""
        step_id = step_id or self.selected
        try:
            document = flow_ops.delete_step(self._document, step_id)
        except flow_ops.EditError as exc:
            self.problem = str(exc)
            return
        self._edit(document)
        await self._select("")
        self.notice = f"Deleted step {step_id}"

    @rx.event
    async def undo(self) -> None:
        """Go back one edit, whatever it changed (a step, its code, inputs or options, the
        input schema); Redo goes forward again."""
        if not self._undo:
            return
        self._redo = (self._redo + [self._document])[-UNDO_DEPTH:]
        await self._restore(self._undo.pop(), "Undone")

    @rx.event
    async def redo(self) -> None:
        if not self._redo:
            return
        self._undo = (self._undo + [self._document])[-UNDO_DEPTH:]
        await self._restore(self._redo.pop(), "Redone")

    async def _restore(self, document: dict[str, Any], notice: str) -> None:
        self._document, self._typing = document, ("", 0.0)
        self.undo_depth, self.redo_depth = len(self._undo), len(self._redo)
        self._touch()
        self.notice, self.warning = notice, ""
        self._show(relayout=True)
        self._load_schema()
        await self._select(self.selected)  # a step the document no longer has is let go

    # ---- step panel -------------------------------------------------------------------------

    @rx.event
    async def set_id_draft(self, value: str) -> None:
        """Validate the step id as it is typed; apply it when valid."""
        self.id_draft = value
        problem = flow_ops.id_problem(self._document, self.selected, value)
        self.id_error = problem or ""
        if problem is None and value != self.selected:
            self._edit(flow_ops.rename_step(self._document, self.selected, value))
            self.selected = value
            await self._refresh_panel(reload_code=False)

    @rx.event
    def set_summary(self, value: str) -> None:
        self.sel_summary = value
        self._typed(f"summary:{self.selected}")
        self._change_step(lambda m: {**{k: v for k, v in m.items() if k != "summary"},
                                     **({"summary": value} if value else {})}, relayout=True)

    @rx.event
    async def set_code(self, step_id: str, text: str) -> None:
        """The code editor of `step_id` changed (debounced): store it, re-read the signature.

        The id comes with the text because a debounced change may arrive after another
        step was selected.
        """
        try:
            _, _, module = flow_ops.find_step(self._document, step_id)
        except flow_ops.EditError:
            return
        changed = {**module, "value": {**module["value"], "content": text}}
        self._typed(f"code:{step_id}")
        if not catalog.lock_still_fits(changed["value"]):
            changed["value"].pop("lock", None)  # the code outgrew it: a preview resolves afresh, a save locks anew
        self._document = flow_ops.replace_step(self._document, step_id, changed)
        self._touch()
        if step_id == self.selected:
            await self._refresh_inputs()

    @rx.event
    async def set_script_path(self, value: str) -> None:
        self.sel_script_path = value
        self._typed(f"script:{self.selected}")
        self._change_step(lambda m: {**m, "value": {**m["value"], "path": value}}, relayout=True)
        await self._refresh_inputs()

    @rx.event
    async def set_input_mode(self, name: str, mode: str) -> None:
        row = next((r for r in self.inputs if r["name"] == name), None)
        if row is not None:
            text = row["text"] if row["unset"] == "false" else row["default"]
            await self._set_input(name, mode, text, row["widget"])

    @rx.event
    async def set_input_text(self, name: str, text: str) -> None:
        row = next((r for r in self.inputs if r["name"] == name), None)
        if row is not None:
            await self._set_input(name, row["mode"], text, row["widget"])

    @rx.event
    async def pick(self, name: str, expr: str) -> None:
        """The picker chose an expression for input `name`."""
        row = next((r for r in self.inputs if r["name"] == name), None)
        if row is not None:
            await self._set_input(name, "javascript", expr, row["widget"])

    @rx.event
    def set_option(self, name: str, value: Any) -> None:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        _, _, module = flow_ops.find_step(self._document, self.selected)
        changed, problem = step_form.set_option(module, name, text)
        self._typed(f"option:{self.selected}:{name}")
        self.option_error = problem
        self.options = {**self.options, name: text}
        if not problem:
            self._replace_step(changed, relayout=False)

    @rx.event
    def set_container_setting(self, name: str, value: Any) -> None:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        _, _, module = flow_ops.find_step(self._document, self.selected)
        changed, problem = step_form.set_container(module, name, text)
        self._typed(f"container:{self.selected}:{name}")
        self.option_error = problem
        if not problem:
            self._replace_step(changed, relayout=False)
            self.container = step_form.container_settings(changed)

    @rx.event
    def set_branch_field(self, index: str, field: str, value: Any) -> None:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        _, _, module = flow_ops.find_step(self._document, self.selected)
        changed = step_form.set_branch(module, int(index), field, text)
        self._typed(f"branch:{self.selected}:{index}:{field}")
        self._replace_step(changed, relayout=field == "summary")
        self.branches = step_form.branch_rows(changed)

    @rx.event
    def add_branch(self) -> None:
        _, _, module = flow_ops.find_step(self._document, self.selected)
        self._push_undo()
        self._replace_step(step_form.add_branch(module), relayout=True)
        self.branches = step_form.branch_rows(flow_ops.find_step(self._document, self.selected)[2])

    # ---- previews -----------------------------------------------------------------------------

    @rx.event
    def set_arg(self, name: str, value: Any) -> None:
        self.args_text = {**self.args_text, name: ("true" if value else "false") if isinstance(value, bool) else str(value)}
        if name in self.form_errors:
            self.form_errors = {key: text for key, text in self.form_errors.items() if key != name}

    @rx.event
    async def download_result(self, key: str):
        """Send a step's whole result (as stored) to the browser as a file."""
        row = await off_loop(service.store.load_step, self.preview_run_id, key) if self.preview_run_id else None
        if row is None:
            return None
        text = json.dumps(row.result, indent=2, ensure_ascii=False, default=str)
        return rx.download(data=text, filename=f"{key.replace('/', '_')}.json")

    @rx.event(background=True)
    async def run_preview(self, mode: str):
        """Run the flow ("flow"), the selected step ("step") or the flow up to it ("upto")
        and stream each step's status, logs and result to the page as they happen."""
        async with self:
            if self.preview_running:
                return
            self.preview_running = True  # no second preview meanwhile (the lock is let go below)
            path = self.path or "preview"
            try:
                document, args = self._preview_input(mode)
            except Exception as exc:  # bad args: say so, run nothing
                self.preview_error, self.preview_status, self.preview_running = str(exc), "", False
                return
        try:
            run_id = await off_loop(_start_preview, document, args, path, mode)
        except Exception as exc:  # args that break the schema, an invalid flow: say so, run nothing
            async with self:
                self.preview_error, self.preview_status, self.preview_running = str(exc), "", False
            return
        subscription = service.engine.events.subscribe(run_id)
        async with self:
            self._reset_preview()
            self.preview_mode, self.preview_run_id, self.preview_status = mode, run_id, "queued"
        try:
            await self._follow(subscription, run_id)
        finally:
            subscription.close()
            run = await when_available(service.store.get_run, run_id)
            async with self:
                self.preview_running = False
                if run is not None and self.preview_status not in FINISHED | {"suspended"}:
                    self.preview_status = run.status

    async def _follow(self, subscription: Any, run_id: str) -> None:
        deadline = time.monotonic() + PREVIEW_SECONDS
        while time.monotonic() < deadline:
            try:
                events = [await asyncio.wait_for(subscription.get(), 1.0)]
            except asyncio.TimeoutError:
                run = await when_available(service.store.get_run, run_id)
                if run is not None and (run.status in FINISHED or run.status == "suspended"):
                    return
                continue
            while not subscription.queue.empty():  # one push for a burst of events
                events.append(subscription.queue.get_nowait())
            async with self:
                if self.preview_run_id != run_id:
                    return
                done = self._apply_events([event.to_dict() for event in events])
            if done:
                return

    def _apply_events(self, events: list[dict[str, Any]]) -> bool:
        rows, statuses, durations, done = self.preview_rows, dict(self.statuses), dict(self.durations), False
        for event in events:
            rows = preview.apply_event(rows, event)
            kind, step_id, data = event["kind"], event.get("step_id"), event.get("data") or {}
            if kind == "step_started" and step_id:
                statuses[step_id] = "running"
                self._remember_iteration(step_id, event.get("iteration"), data.get("iter"))
            elif kind == "step_finished" and step_id:
                statuses[step_id] = str(data.get("status") or "")
                durations[step_id] = preview.format_duration(data.get("duration"))
                self._results[step_id] = preview.keep_for_picker(data.get("result"))
            elif kind == "run_started":
                self.preview_status = "running"
            elif kind in ("run_finished", "run_suspended"):
                self.preview_status = str(data.get("status") or "suspended")
                error = data.get("error")
                self.preview_error = str(error.get("message", "")) if isinstance(error, dict) else ""
                done = True
        self.preview_rows, self.statuses, self.durations = rows, statuses, durations
        if any(event["kind"] == "step_finished" for event in events):
            self._refresh_picks()
        return done

    def _remember_iteration(self, step_id: str, iteration: Any, it: Any) -> None:
        """Keep the first iteration value a step of a loop ran with, for "Test this step"."""
        if not isinstance(it, dict) or (iteration not in (0, None) and step_id in self._iters):
            return
        self._iters = {**self._iters, step_id: preview.keep_for_picker(it.get("value"))}
        if step_id == self.selected:
            self.iter_text = json.dumps(self._iters[step_id])

    def _preview_input(self, mode: str) -> tuple[dict[str, Any], dict[str, Any]]:
        args, document = self._parsed_args(), self._plain_document()
        if mode == "step":
            iter_value = self._iter_value() if self.sel_in_loop else None
            return preview.step_document(document, self.selected, copy.deepcopy(self._results), iter_value), args
        if mode == "upto":
            return preview.upto_document(document, self.selected), args
        return document, args

    def _plain_document(self) -> dict[str, Any]:
        """The document as plain dicts (state hands out change-tracking proxies)."""
        return copy.deepcopy(self._document)

    def _parsed_args(self) -> dict[str, Any]:
        """The Test flow form's args, typed and checked as the Run page checks them; a
        problem is put at its field and stops the preview."""
        args, self.form_errors = parse_form(self.form_schema, field_texts(self.form_fields, self.args_text))
        if self.form_errors:
            wrong = ", ".join(f"{name or 'the inputs'} {message}" for name, message in self.form_errors.items())
            raise ValueError(f"Test inputs: {wrong}")
        return args

    def _reset_preview(self) -> None:
        self.preview_rows, self.statuses, self.durations = [], {}, {}
        self.preview_status, self.preview_error, self.preview_mode = "", "", ""

    # ---- helpers ------------------------------------------------------------------------------

    def _edit(self, document: dict[str, Any]) -> None:
        """Replace the document (a structural edit: undoable, re-laid out)."""
        self._push_undo()
        self._document = document
        self.problem, self.notice, self.warning = "", "", ""
        self._touch()
        self._show(relayout=True)

    def _touch(self) -> None:
        """The document changed: it is unsaved, and its draft is kept in the browser."""
        self.dirty, self.notice = True, ""
        self.draft_json = drafts.as_text(self._document)

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
        self._edit(copy.deepcopy(self._draft))
        self._load_schema()
        await self._select("")
        self._draft, self.draft_offer, self.notice = {}, "", "Draft restored: save to keep it"

    @rx.event
    def discard_draft(self) -> None:
        self._draft, self.draft_offer, self.draft_cleared = {}, "", self.draft_cleared + 1

    def _push_undo(self) -> None:
        """Make the document as it is now a point Undo comes back to (a new edit follows)."""
        self._undo = (self._undo + [self._document])[-UNDO_DEPTH:]
        self._redo, self._typing = [], ("", 0.0)
        self.undo_depth, self.redo_depth = len(self._undo), 0

    def _typed(self, field: str) -> None:
        """An edit of `field` comes: a new point of the history, unless the same field was
        edited a moment ago (typing a word is one edit)."""
        now = time.monotonic()
        last, at = self._typing
        if field != last or now - at > TYPING_SECONDS:
            self._push_undo()
        self._typing = (field, now)

    def _show(self, *, relayout: bool) -> None:
        """Derive what the page shows from the document."""
        self.summary = str(self._document.get("summary") or self.path)
        if relayout:
            graph = flow_graph.build_graph(self._document) if self._document else flow_graph.Graph()
            self.nodes, self.edges, self.slots = graph.nodes, graph.edges, graph.slots
            self.graph_version += 1
        schema = self._document.get("schema") or {}
        if schema != self.form_schema:
            self.show_schema(schema, self.form_resources)

    async def _select(self, step_id: str) -> None:
        try:
            flow_ops.find_step(self._document, step_id)
        except flow_ops.EditError:
            step_id = ""
        self.selected = step_id
        await self._refresh_panel(reload_code=True)

    async def _refresh_panel(self, *, reload_code: bool) -> None:
        if not self.selected:
            self.sel_kind, self.inputs, self.picks = "", [], []
            return
        _, _, module = flow_ops.find_step(self._document, self.selected)
        value = module.get("value") or {}
        self.sel_kind, self.sel_language = str(value.get("type", "")), str(value.get("language", ""))
        self.sel_summary, self.sel_script_path = str(module.get("summary") or ""), str(value.get("path") or "")
        self.sel_lock = str(value.get("lock") or "")
        self.id_draft, self.id_error, self.option_error, self.input_errors = self.selected, "", "", {}
        if reload_code:
            self.code_loaded, self.code_key = str(value.get("content") or ""), self.code_key + 1
        self.options = step_form.option_values(module)
        self._show_iteration(reset=reload_code)
        self.container = step_form.container_settings(module)
        self.branches = step_form.branch_rows(module)
        await self._refresh_inputs()
        self._refresh_picks()

    async def _refresh_inputs(self) -> None:
        container, _, module = flow_ops.find_step(self._document, self.selected)
        value = module.get("value") or {}
        schema, self.code_error = None, ""
        if value.get("type") == "rawscript":
            schema, self.code_error = catalog.script_schema_or_error(
                str(value.get("language")), str(value.get("content") or ""), preprocessor=container == "@preprocessor")
        elif value.get("type") == "script":
            script = await off_loop(service.store.get_script, str(value.get("path") or ""),
                                    workspace=settings.WORKSPACE)
            schema = script.args_schema if script is not None else None
        if schema is None and self.code_error:
            return  # keep the last good rows while the code does not parse
        self.inputs = step_form.input_rows(module, schema) if value.get("type") in step_form.SCRIPT_TYPES else []

    def _refresh_picks(self) -> None:
        if not self.selected:
            self.picks = []
            return
        earlier = flow_ops.steps_before(self._document, self.selected) if self.selected else []
        self.picks = preview.picks(self._document.get("schema"), earlier, self._results,
                                   in_loop=self.sel_in_loop, iter_value=self._iters.get(self.selected))

    def _show_iteration(self, *, reset: bool) -> None:
        """Whether the selected step is in a loop, and (with `reset`, a step just selected)
        the iteration value it is tested with: the last preview's, until one is typed."""
        try:
            loop, _, _ = flow_ops.enclosing_loop(self._document, self.selected)
        except flow_ops.EditError:  # the failure or preprocessor step: in no loop
            loop = None
        self.sel_in_loop = loop is not None
        if reset:
            known = self.sel_in_loop and self.selected in self._iters
            self.iter_text = json.dumps(self._iters[self.selected]) if known else ""

    @rx.event
    def set_iter_text(self, text: str) -> None:
        self.iter_text = text

    def _iter_value(self) -> Any:
        """The typed iteration value; null when none is typed."""
        if not self.iter_text.strip():
            return None
        try:
            return json.loads(self.iter_text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"the iteration value (flow_input.iter.value) is not JSON: {exc.msg} "
                             f"at character {exc.pos + 1}") from None

    async def _set_input(self, name: str, mode: str, text: str, widget: str) -> None:
        _, _, module = flow_ops.find_step(self._document, self.selected)
        changed, problem = step_form.set_input(module, name, mode, text, widget)
        self._typed(f"input:{self.selected}:{name}")
        self.input_errors = {**self.input_errors, name: problem}
        self._replace_step(changed, relayout=mode == "javascript")
        await self._refresh_inputs()

    def _change_step(self, change: Any, *, relayout: bool) -> None:
        if not self.selected:
            return
        _, _, module = flow_ops.find_step(self._document, self.selected)
        self._replace_step(change(module), relayout=relayout)

    def _replace_step(self, module: dict[str, Any], *, relayout: bool) -> None:
        """Put a changed copy of the selected step in place (not an undo point)."""
        self._document = flow_ops.replace_step(self._document, self.selected, module)
        self._touch()
        self._show(relayout=relayout)



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


def _documents(path: str, numbers: list[str]) -> list[Any]:
    """The documents of these versions of the flow (None for a missing one)."""
    rows = [service.store.get_flow(path, int(v), workspace=settings.WORKSPACE) if v else None for v in numbers]
    return [row.document if row is not None else None for row in rows]


def _start_preview(document: dict[str, Any], args: dict[str, Any], path: str, mode: str) -> str:
    """Queue a preview run for the caller (audited); its id."""
    run_id = service.submit_flow(document, args, path=path, trigger="preview", started_by=caller())
    record("run.started", path, f"{run_id} ({mode} preview)")
    return run_id


def _first_script_path() -> str:
    scripts = service.store.list_scripts(workspace=settings.WORKSPACE)
    return scripts[0].path if scripts else ""
