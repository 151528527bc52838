"""The flow editor's previews: the Test flow form, and test runs of the flow, of the
selected step or of the flow up to it.

Previews are background events that follow the engine's events of their run and push
each step's status, logs and result as it happens. What a preview gave each step (its
result, its first iteration value) is kept for the next step preview and the picker.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
import uuid
from typing import Any

import reflex as rx

from app.services.engine_service import FINISHED, service
from app.services.offloop import off_loop, when_available
from app.states.editor import EditorState
from app.states.guard import caller
from app.states.session import record
from app.views import preview
from app.views.resource_choices import resource_choices
from components.schema_form import SchemaFormState, field_texts, parse_form

PREVIEW_SECONDS = 300.0


class EditorPreviewState(SchemaFormState, EditorState):
    """The Test flow form (the flow's input schema) and the preview run it starts."""

    args_text: dict[str, str] = {}  # the Test flow form's texts, by input (the form is the schema's)
    preview_running: bool = False
    preview_mode: str = ""
    preview_run_id: str = ""
    preview_status: str = ""
    preview_error: str = ""
    preview_rows: list[dict[str, str]] = []
    statuses: dict[str, str] = {}
    durations: dict[str, str] = {}

    _iters: dict[str, Any] = {}  # step id -> its iteration value in the last preview
    _results: dict[str, Any] = {}

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
                document, args = await self._preview_input(mode)
            except Exception as exc:  # bad args: say so, run nothing
                self.preview_error, self.preview_status, self.preview_running = str(exc), "", False
                return
        run_id = uuid.uuid4().hex
        subscription = service.engine.events.subscribe(run_id)  # before the run can start: no event missed
        try:
            await off_loop(_start_preview, document, args, path, mode, run_id)
        except Exception as exc:  # args that break the schema, an invalid flow: say so, run nothing
            subscription.close()
            async with self:
                self.preview_error, self.preview_status, self.preview_running = str(exc), "", False
            return
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
                done = await self._apply_events([event.to_dict() for event in events])
            if done:
                return

    async def _apply_events(self, events: list[dict[str, Any]]) -> bool:
        rows, statuses, durations, done = self.preview_rows, dict(self.statuses), dict(self.durations), False
        panel = await self._panel()
        for event in events:
            rows = preview.apply_event(rows, event)
            kind, step_id, data = event["kind"], event.get("step_id"), event.get("data") or {}
            if kind == "step_started" and step_id:
                statuses[step_id] = "running"
                self._remember_iteration(step_id, event.get("iteration"), data.get("iter"), panel)
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
            await panel._refresh_picks()
        return done

    def _remember_iteration(self, step_id: str, iteration: Any, it: Any, panel: Any) -> None:
        """Keep the first iteration value a step of a loop ran with, for "Test this step"."""
        if not isinstance(it, dict) or (iteration not in (0, None) and step_id in self._iters):
            return
        self._iters = {**self._iters, step_id: preview.keep_for_picker(it.get("value"))}
        if step_id == panel.selected:
            panel.iter_text = json.dumps(self._iters[step_id])

    async def _preview_input(self, mode: str) -> tuple[dict[str, Any], dict[str, Any]]:
        args, document, panel = self._parsed_args(), self._plain_document(), await self._panel()
        if mode == "step":
            iter_value = panel._iter_value() if panel.sel_in_loop else None
            return preview.step_document(document, panel.selected, copy.deepcopy(self._results), iter_value), args
        if mode == "upto":
            return preview.upto_document(document, panel.selected), args
        return document, args

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

    def _forget_results(self) -> None:
        """Another flow is opened: no result or iteration of an earlier preview applies."""
        self._results, self._iters = {}, {}

    def _follow_schema(self, schema: dict[str, Any]) -> None:
        """Rebuild the Test flow form when the flow's input schema changed."""
        if schema != self.form_schema:
            self.show_schema(schema, self.form_resources)

    async def _load_resources(self) -> None:
        """The resources the form's resource inputs may take."""
        self.form_resources = await off_loop(resource_choices, self.form_schema)


def _start_preview(document: dict[str, Any], args: dict[str, Any], path: str, mode: str, run_id: str) -> None:
    """Queue a preview run for the caller (audited), as `run_id`."""
    service.submit_flow(document, args, path=path, trigger="preview", started_by=caller(), run_id=run_id)
    record("run.started", path, f"{run_id} ({mode} preview)")
