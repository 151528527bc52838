"""The flow editor's step panel: the selected step's id, summary, code, inputs, options and
loop or branch settings, each edit checked and put in the document as it is made."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from app import settings
from app.services import catalog
from app.services.engine_service import service
from app.services.offloop import off_loop
from app.states.editor import EditorState
from app.views import flow_ops, preview, step_form


class EditorPanelState(EditorState):
    """The selected step, as its panel shows it."""

    selected: str = ""
    sel_kind: str = ""
    sel_language: str = ""
    sel_summary: str = ""
    sel_script_path: str = ""
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
    sel_in_loop: bool = False  # the selected step is inside a loop: it reads flow_input.iter
    iter_text: str = ""  # the iteration value "Test this step" gives it (JSON)

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
        await self._edit(document)
        await self._select("")
        self.notice = f"Deleted step {step_id}"

    # ---- edits of the step --------------------------------------------------------------------

    @rx.event
    async def set_id_draft(self, value: str) -> None:
        """Validate the step id as it is typed; apply it when valid."""
        self.id_draft = value
        problem = flow_ops.id_problem(self._document, self.selected, value)
        self.id_error = problem or ""
        if problem is None and value != self.selected:
            await self._edit(flow_ops.rename_step(self._document, self.selected, value))
            self.selected = value
            await self._refresh_panel(reload_code=False)

    @rx.event
    async def set_summary(self, value: str) -> None:
        self.sel_summary = value
        (await self._history())._typed(f"summary:{self.selected}")
        await self._change_step(lambda m: {**{k: v for k, v in m.items() if k != "summary"},
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
        (await self._history())._typed(f"code:{step_id}")
        if not catalog.lock_still_fits(changed["value"]):
            changed["value"].pop("lock", None)  # the code outgrew it: a preview resolves afresh, a save locks anew
        self._document = flow_ops.replace_step(self._document, step_id, changed)
        self._touch()
        if step_id == self.selected:
            await self._refresh_inputs()

    @rx.event
    async def set_script_path(self, value: str) -> None:
        self.sel_script_path = value
        (await self._history())._typed(f"script:{self.selected}")
        await self._change_step(lambda m: {**m, "value": {**m["value"], "path": value}}, relayout=True)
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
    async def set_option(self, name: str, value: Any) -> None:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        _, _, module = flow_ops.find_step(self._document, self.selected)
        changed, problem = step_form.set_option(module, name, text)
        (await self._history())._typed(f"option:{self.selected}:{name}")
        self.option_error = problem
        self.options = {**self.options, name: text}
        if not problem:
            await self._replace_step(changed, relayout=False)

    @rx.event
    async def set_container_setting(self, name: str, value: Any) -> None:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        _, _, module = flow_ops.find_step(self._document, self.selected)
        changed, problem = step_form.set_container(module, name, text)
        (await self._history())._typed(f"container:{self.selected}:{name}")
        self.option_error = problem
        if not problem:
            await self._replace_step(changed, relayout=False)
            self.container = step_form.container_settings(changed)

    @rx.event
    async def set_branch_field(self, index: str, field: str, value: Any) -> None:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        _, _, module = flow_ops.find_step(self._document, self.selected)
        changed = step_form.set_branch(module, int(index), field, text)
        (await self._history())._typed(f"branch:{self.selected}:{index}:{field}")
        await self._replace_step(changed, relayout=field == "summary")
        self.branches = step_form.branch_rows(changed)

    @rx.event
    async def add_branch(self) -> None:
        _, _, module = flow_ops.find_step(self._document, self.selected)
        (await self._history())._push_undo()
        await self._replace_step(step_form.add_branch(module), relayout=True)
        self.branches = step_form.branch_rows(flow_ops.find_step(self._document, self.selected)[2])

    @rx.event
    def set_iter_text(self, text: str) -> None:
        self.iter_text = text

    async def _set_input(self, name: str, mode: str, text: str, widget: str) -> None:
        _, _, module = flow_ops.find_step(self._document, self.selected)
        changed, problem = step_form.set_input(module, name, mode, text, widget)
        (await self._history())._typed(f"input:{self.selected}:{name}")
        self.input_errors = {**self.input_errors, name: problem}
        await self._replace_step(changed, relayout=mode == "javascript")
        await self._refresh_inputs()

    async def _change_step(self, change: Any, *, relayout: bool) -> None:
        if not self.selected:
            return
        _, _, module = flow_ops.find_step(self._document, self.selected)
        await self._replace_step(change(module), relayout=relayout)

    async def _replace_step(self, module: dict[str, Any], *, relayout: bool) -> None:
        """Put a changed copy of the selected step in place (not an undo point)."""
        self._document = flow_ops.replace_step(self._document, self.selected, module)
        self._touch()
        await self._show(relayout=relayout)

    # ---- what the panel shows -----------------------------------------------------------------

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
        await self._show_iteration(reset=reload_code)
        self.container = step_form.container_settings(module)
        self.branches = step_form.branch_rows(module)
        await self._refresh_inputs()
        await self._refresh_picks()

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

    async def _refresh_picks(self) -> None:
        """What the picker offers the selected step: inputs, earlier steps' results as the
        last preview gave them, the iteration inside a loop."""
        if not self.selected:
            self.picks = []
            return
        last = await self._preview()
        earlier = flow_ops.steps_before(self._document, self.selected)
        self.picks = preview.picks(self._document.get("schema"), earlier, last._results,
                                   in_loop=self.sel_in_loop, iter_value=last._iters.get(self.selected))

    async def _show_iteration(self, *, reset: bool) -> None:
        """Whether the selected step is in a loop, and (with `reset`, a step just selected)
        the iteration value it is tested with: the last preview's, until one is typed."""
        try:
            loop, _, _ = flow_ops.enclosing_loop(self._document, self.selected)
        except flow_ops.EditError:  # the failure or preprocessor step: in no loop
            loop = None
        self.sel_in_loop = loop is not None
        if reset:
            iters = (await self._preview())._iters
            known = self.sel_in_loop and self.selected in iters
            self.iter_text = json.dumps(iters[self.selected]) if known else ""

    def _iter_value(self) -> Any:
        """The typed iteration value; null when none is typed."""
        if not self.iter_text.strip():
            return None
        try:
            return json.loads(self.iter_text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"the iteration value (flow_input.iter.value) is not JSON: {exc.msg} "
                             f"at character {exc.pos + 1}") from None
