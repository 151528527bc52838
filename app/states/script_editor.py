"""State of the script editor: the code, its save, the form of `main`, a run with live logs."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import reflex as rx

from app.services import catalog
from app.views import present
from app import routes, settings
from app.services.engine_service import FINISHED, service
from app.services.offloop import off_loop, when_available
from app.views.resource_choices import resource_choices
from app.states.guard import admin_only, caller
from app.states.session import record
from components.schema_form import SchemaFormState

MAX_LOG_LINES = 1000
"""Log lines kept on the page for one run (the store keeps them all)."""
RUN_WATCH_SECONDS = 600.0
POLL_SECONDS = 1.0


class ScriptEditorState(SchemaFormState, rx.State):
    """One script: its code (loaded and as edited), the form of its args, its last run."""

    path: str = ""
    found: bool = True
    language: str = "python3"
    version: int = 0
    summary: str = ""
    loaded_code: str = ""  # what the code editor shows after a load (never written while typing)
    editor_key: int = 0
    draft: str = ""  # the text as edited
    lock: str = ""  # the dependencies' lock of the saved version (read-only on the page)
    dedicated: bool = False  # runs call main in a warm worker per version; saved with the next version
    _saved_code: str = ""  # the code of that version: a run of other code resolves its own
    problem: str = ""
    notice: str = ""
    running: bool = False
    run_id: str = ""
    run_status: str = ""
    run_logs: str = ""
    result_json: str = ""
    run_error: str = ""
    _pending_args: dict[str, Any] = {}  # the checked args, from submit to follow_run

    @rx.event
    async def load(self) -> None:
        """Open the script named by the URL (/scripts/edit/<path>)."""
        url_path = self.router.url.path.rstrip("/")
        self.path = url_path.split(routes.SCRIPT_EDITOR_PREFIX, 1)[-1] if routes.SCRIPT_EDITOR_PREFIX in url_path else ""
        self.problem = self.notice = ""
        row = await off_loop(service.store.get_script, self.path, workspace=settings.WORKSPACE) if self.path else None
        self.found = row is not None
        if row is None:
            return
        self.language, self.version, self.summary = row.language, row.version, row.summary or ""
        self.loaded_code = self.draft = self._saved_code = row.content
        self.lock = row.lock or ""
        self.dedicated = bool(row.dedicated_worker)
        self.editor_key += 1
        self.show_schema(row.args_schema, await off_loop(resource_choices, row.args_schema))
        if not self.running:
            self.run_id = self.run_status = self.run_logs = self.result_json = self.run_error = ""

    @rx.event
    async def set_draft(self, value: str) -> None:
        """Take the code as typed; the Run form follows its `main` whenever the code parses
        (while it does not, the last form stays, so typing never makes it flicker)."""
        self.draft = value
        self.notice = ""
        schema, _ = catalog.script_schema_or_error(self.language, value)
        if schema is not None and schema != self.form_schema:
            self.show_schema(schema, await off_loop(resource_choices, schema))

    @rx.event
    def set_dedicated(self, value: bool) -> None:
        """Switch dedicated mode on or off for the next saved version."""
        self.dedicated = bool(value)
        self.notice = ""

    @rx.event
    @admin_only("save scripts")
    async def save(self) -> None:
        """Check the code (it needs a `main`) and save it as the next version."""
        try:
            self.version = await off_loop(_save, self.path, self.language, self.draft, self.summary, self.dedicated)
        except catalog.CatalogError as exc:
            self.problem, self.notice = str(exc), ""
            return
        saved = await off_loop(service.store.get_script, self.path, self.version, workspace=settings.WORKSPACE)
        self.lock, self._saved_code = (saved.lock or "", saved.content) if saved is not None else ("", "")
        self.problem, self.notice = "", f"Saved version {self.version}."
        schema, _ = catalog.script_schema_or_error(self.language, self.draft)
        if schema != self.form_schema:
            self.show_schema(schema, await off_loop(resource_choices, schema))

    @rx.event
    def submit(self, form_data: dict[str, Any]):
        """Run the code as edited with the args of the form (checked at each field first)."""
        if self.running:
            return None
        args = self.check_form(form_data)
        if args is None:
            return None
        schema, problem = catalog.script_schema_or_error(self.language, self.draft)
        if schema is None:
            self.problem = problem
            return None
        self.problem = ""
        self.running, self.run_id, self.run_status = True, uuid.uuid4().hex, "queued"
        self.run_logs = self.result_json = self.run_error = ""
        self._pending_args = args
        return ScriptEditorState.follow_run

    @rx.event(background=True)
    async def follow_run(self):
        """Start the run, then stream its log lines into the page until it ends."""
        async with self:
            run_id, args, path = self.run_id, dict(self._pending_args), self.path
            language, content, schema = self.language, self.draft, dict(self.form_schema)
            lock = self.lock if content == self._saved_code else None
            who = caller()
        subscription = service.engine.events.subscribe(run_id)
        try:
            try:
                await off_loop(service.submit_script, path, language, content, schema, args, run_id=run_id,
                               started_by=who, lock=lock)
            except Exception as exc:  # ArgsValidationError and kin: shown, not raised
                async with self:
                    self.running, self.run_status, self.run_error = False, "", str(exc)
                return
            await off_loop(record, "run.started", path, run_id)
            await self._stream(subscription, run_id)
        finally:
            subscription.close()
            async with self:
                self.running = False

    async def _stream(self, subscription: Any, run_id: str) -> None:
        deadline = time.monotonic() + RUN_WATCH_SECONDS
        while time.monotonic() < deadline:
            lines: list[str] = []
            try:
                event = await asyncio.wait_for(subscription.get(), POLL_SECONDS)
                events = [event]
                while not subscription.queue.empty():
                    events.append(subscription.queue.get_nowait())
                lines = [str(e.data.get("line", "")) for e in events if e.kind == "step_log"]
            except TimeoutError:
                pass
            run = await when_available(service.store.get_run, run_id)
            logs = await when_available(service.store.get_logs, run_id, limit=MAX_LOG_LINES) \
                if run is not None and run.status in FINISHED else []
            if logs is None:
                continue  # the database went away meanwhile: look again at the next turn
            async with self:
                if self.run_id != run_id:
                    return
                if lines:
                    self.run_logs = _tail(self.run_logs, lines)
                if run is not None:
                    self.run_status = run.status
                    if run.status in FINISHED:
                        self._show_end(run, logs)
                        return

    def _show_end(self, run: Any, logs: list[Any]) -> None:
        self.run_logs = "\n".join(entry.line for entry in logs)
        self.result_json = "" if run.result is None else present.pretty_json(run.result)
        error = run.error if isinstance(run.error, dict) else {}
        self.run_error = str(error.get("message", "")) if run.error else ""


def _tail(text: str, lines: list[str]) -> str:
    joined = (text.split("\n") if text else []) + lines
    return "\n".join(joined[-MAX_LOG_LINES:])


def _save(path: str, language: str, draft: str, summary: str, dedicated: bool) -> int:
    """Save the code (and whether it runs dedicated) as the script's next version (audited); the version."""
    version = catalog.save_script(service.store, path, language, draft, summary, dedicated_worker=dedicated)
    record("script.saved", path, f"version {version}")
    return version
