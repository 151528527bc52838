"""The flow editor: palette, canvas, step panel and live previews."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import routes
from app.views.flow_ops import PALETTE
from app.states.editor import EditorState
from app.states.editor_history import EditorHistoryState
from app.states.editor_panel import EditorPanelState
from app.states.editor_preview import EditorPreviewState
from components.code_editor import code_editor
from components.flow_canvas import flow_canvas
from app.pages.layout import template
from components.schema_editor import schema_editor
from components.schema_form import bound_field
from components.status import status_badge
from components.unsaved_guard import unsaved_guard

PALETTE_ICONS = {
    "python": "file-code", "bash": "terminal", "typescript": "file-type", "postgresql": "database",
    "duckdb": "database", "script": "file-text",
    "forloop": "repeat", "whileloop": "refresh-cw", "branchone": "git-branch", "branchall": "git-fork",
    "approval": "circle-check", "identity": "equal",
}
CANVAS_HEIGHT = "calc(100vh - 12rem)"


def _palette() -> rx.Component:
    items = [
        rx.hstack(
            rx.icon(PALETTE_ICONS[kind], size=14),
            rx.text(label, size="2"),
            align="center",
            spacing="2",
            padding="0.35rem 0.5rem",
            border="1px solid var(--gray-a6)",
            border_radius="6px",
            background="var(--color-panel-solid)",
            cursor="grab",
            width="100%",
            custom_attrs={"draggable": "true", "data-palette-kind": kind},
        )
        for kind, label in PALETTE
    ]
    return rx.vstack(
        rx.text("Drag a step onto the canvas", size="1", color_scheme="gray"),
        *items,
        spacing="1",
        width="10.5rem",
        flex_shrink="0",
    )


def _toolbar() -> rx.Component:
    return rx.hstack(
        rx.code(EditorState.path),
        rx.badge("v", EditorState.version, variant="soft"),
        rx.cond(EditorState.dirty, rx.badge("unsaved changes", color_scheme="amber", variant="soft")),
        rx.spacer(),
        rx.cond(EditorState.notice != "", rx.text(EditorState.notice, size="2", color_scheme="gray",
                                                  custom_attrs={"data-notice": ""})),
        rx.button(rx.icon("undo-2", size=14), "Undo", variant="soft", on_click=EditorHistoryState.undo,
                  disabled=EditorHistoryState.undo_depth == 0, custom_attrs={"data-action": "undo"}),
        rx.button(rx.icon("redo-2", size=14), "Redo", variant="soft", on_click=EditorHistoryState.redo,
                  disabled=EditorHistoryState.redo_depth == 0, custom_attrs={"data-action": "redo"}),
        rx.tooltip(rx.hstack(rx.switch(checked=EditorState.dedicated, on_change=EditorState.set_dedicated,
                                       custom_attrs={"data-field": "flow-dedicated-worker"}),
                             rx.text("Dedicated worker", size="2"), align="center"),
                   content="Python and Bun steps call main again in one warm sandboxed process per script "
                           "version; module state persists between calls"),
        rx.button(rx.icon("save", size=14), "Save", on_click=EditorState.save, custom_attrs={"data-action": "save"}),
        align="center",
        width="100%",
        spacing="2",
    )


LEAVE_MESSAGE = "This flow has unsaved changes. Leave and lose them? (A draft stays in this browser.)"


def _drafts() -> rx.Component:
    """Guards the unsaved edits and offers a draft this browser kept of the flow."""
    return rx.fragment(
        unsaved_guard(dirty=EditorState.dirty, draft=EditorState.draft_json, flow_path=EditorState.path,
                      version=EditorState.version, opened=EditorState.opened, cleared=EditorState.draft_cleared,
                      message=LEAVE_MESSAGE, on_draft=EditorState.offer_draft),
        rx.cond(EditorState.draft_offer != "", rx.callout(
            rx.hstack(
                rx.text("This browser kept unsaved edits of this flow (", EditorState.draft_offer, ")."),
                rx.button("Restore", size="1", on_click=EditorState.restore_draft,
                          custom_attrs={"data-action": "restore-draft"}),
                rx.button("Discard", size="1", variant="soft", color_scheme="gray",
                          on_click=EditorState.discard_draft, custom_attrs={"data-action": "discard-draft"}),
                align="center", spacing="2"),
            icon="history", color_scheme="amber", size="1", custom_attrs={"data-draft-offer": ""})),
    )


def _canvas() -> rx.Component:
    return rx.box(
        flow_canvas(
            nodes=EditorState.nodes,
            edges=EditorState.edges,
            slots=EditorState.slots,
            version=EditorState.graph_version,
            statuses=EditorPreviewState.statuses,
            durations=EditorPreviewState.durations,
            selected=EditorPanelState.selected,
            fit_key=EditorState.path,
            on_drop_item=EditorState.drop_item,
            on_move_step=EditorState.move_step,
            on_select=EditorPanelState.select,
            on_delete_step=EditorPanelState.delete_step,
            on_undo=EditorHistoryState.undo,
            on_redo=EditorHistoryState.redo,
        ),
        flex="1",
        min_width="0",
        height=CANVAS_HEIGHT,
        border="1px solid var(--gray-a5)",
        border_radius="8px",
        overflow="hidden",
    )


def _labelled(label: str, *children: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", weight="medium", color_scheme="gray"), *children,
                     spacing="1", width="100%")


def _error(text: rx.Var[str], name: str) -> rx.Component:
    return rx.cond(text != "", rx.text(text, size="1", color_scheme="red", custom_attrs={"data-error": name}))


# ---- step panel --------------------------------------------------------------------------

def _step_header() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            _labelled("Step id", rx.input(value=EditorPanelState.id_draft, on_change=EditorPanelState.set_id_draft,
                                          font_family="monospace", custom_attrs={"data-field": "step-id"})),
            rx.icon_button(rx.icon("trash-2", size=14), color_scheme="red", variant="soft",
                           on_click=EditorPanelState.delete_step(""), custom_attrs={"data-action": "delete-step"}),
            align="end",
            width="100%",
        ),
        _error(EditorPanelState.id_error, "step-id"),
        _labelled("Summary", rx.input(value=EditorPanelState.sel_summary, on_change=EditorPanelState.set_summary,
                                      custom_attrs={"data-field": "step-summary"})),
        rx.cond(EditorPanelState.sel_in_loop, _labelled(
            "Iteration value for a test (flow_input.iter.value, JSON)",
            rx.input(value=EditorPanelState.iter_text, on_change=EditorPanelState.set_iter_text, font_family="monospace",
                     placeholder="null: test up to here or the flow first to take one",
                     custom_attrs={"data-field": "iter-value"}))),
        rx.hstack(
            rx.button("Test this step", size="1", variant="soft", on_click=EditorPreviewState.run_preview("step"),
                      disabled=EditorPreviewState.preview_running, custom_attrs={"data-action": "test-step"}),
            rx.button("Test up to here", size="1", variant="soft", on_click=EditorPreviewState.run_preview("upto"),
                      disabled=EditorPreviewState.preview_running, custom_attrs={"data-action": "test-upto"}),
        ),
        width="100%",
        spacing="2",
    )


def _code() -> rx.Component:
    return rx.vstack(
        rx.box(code_editor(value=EditorPanelState.code_loaded, language=EditorPanelState.sel_language, height="14rem",
                           on_change=lambda text: EditorPanelState.set_code(EditorPanelState.selected, text).debounce(300),
                           key=EditorPanelState.code_key.to_string()),
               width="100%", custom_attrs={"data-code-editor": EditorPanelState.sel_language}),
        _error(EditorPanelState.code_error, "code"),
        rx.cond(EditorPanelState.sel_lock != "",
                rx.box(rx.text("Dependencies (lock, as saved)", size="1", weight="medium"),
                       rx.el.pre(EditorPanelState.sel_lock, custom_attrs={"data-block": "step-lock"},
                                 style={"font_size": "11px", "max_height": "8rem", "overflow": "auto", "margin": "0"}),
                       width="100%", padding="0.25rem")),
        width="100%",
        max_width="100%",
        overflow="hidden",
        border="1px solid var(--gray-a5)",
        spacing="1",
    )


def _picker(name: rx.Var[str]) -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(rx.icon_button(rx.icon("braces", size=12), size="1", variant="ghost",
                                          custom_attrs={"data-picker": name})),
        rx.popover.content(
            rx.vstack(
                rx.text("Insert", size="1", color_scheme="gray"),
                rx.cond(EditorPanelState.picks.length() == 0,
                        rx.text("Run a preview to see earlier results", size="1")),
                rx.foreach(EditorPanelState.picks, lambda pick: rx.popover.close(rx.button(
                    pick["expr"], size="1", variant="ghost", font_family="monospace",
                    on_click=EditorPanelState.pick(name, pick["expr"]),
                    custom_attrs={"data-pick": pick["expr"]}))),
                spacing="1",
                max_height="18rem",
                overflow_y="auto",
            ),
            size="1",
        ),
    )


def _input_widget(row: rx.Var[dict[str, str]]) -> rx.Component:
    name, text = row["name"].to(str), row["text"].to(str)
    placeholder = rx.cond(row["default"].to(str) != "", "default: " + row["default"].to(str), "")
    attrs = {"data-input": name}
    return rx.cond(
        row["mode"].to(str) == "javascript",
        rx.input(value=text, on_change=lambda v: EditorPanelState.set_input_text(name, v), font_family="monospace",
                 placeholder="JavaScript expression", custom_attrs=attrs, width="100%"),
        rx.match(
            row["widget"].to(str),
            ("boolean", rx.switch(checked=text == "true", custom_attrs=attrs,
                                  on_change=lambda v: EditorPanelState.set_input_text(name, rx.cond(v, "true", "false")))),
            ("json", rx.text_area(value=text, on_change=lambda v: EditorPanelState.set_input_text(name, v),
                                  placeholder=placeholder, font_family="monospace", custom_attrs=attrs, width="100%")),
            ("number", rx.input(value=text, type="number", placeholder=placeholder, custom_attrs=attrs, width="100%",
                                on_change=lambda v: EditorPanelState.set_input_text(name, v))),
            rx.input(value=text, placeholder=placeholder, custom_attrs=attrs, width="100%",
                     on_change=lambda v: EditorPanelState.set_input_text(name, v)),
        ),
    )


def _input_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    name = row["name"].to(str)
    is_js = row["mode"].to(str) == "javascript"
    return rx.vstack(
        rx.hstack(
            rx.code(name),
            rx.text(row["type"].to(str), size="1", color_scheme="gray"),
            rx.cond(row["required"].to(str) == "true", rx.text("required", size="1", color_scheme="red")),
            rx.spacer(),
            rx.button(rx.cond(is_js, "expr", "static"), size="1", variant=rx.cond(is_js, "solid", "outline"),
                      on_click=EditorPanelState.set_input_mode(name, rx.cond(is_js, "static", "javascript")),
                      custom_attrs={"data-mode": name}),
            _picker(name),
            align="center",
            width="100%",
        ),
        _input_widget(row),
        rx.cond(EditorPanelState.input_errors[name] != "", rx.text(EditorPanelState.input_errors[name], size="1",
                                                               color_scheme="red")),
        spacing="1",
        width="100%",
        custom_attrs={"data-input-row": name},
    )


def _option_input(label: str, name: str, placeholder: str = "") -> rx.Component:
    return _labelled(label, rx.input(value=EditorPanelState.options[name], placeholder=placeholder, size="1",
                                     on_change=lambda v: EditorPanelState.set_option(name, v),
                                     custom_attrs={"data-option": name}))


def _option_switch(label: str, name: str) -> rx.Component:
    return rx.hstack(rx.switch(checked=EditorPanelState.options[name] == "true", size="1",
                               on_change=lambda v: EditorPanelState.set_option(name, v),
                               custom_attrs={"data-option": name}),
                     rx.text(label, size="1"), align="center")


def _options() -> rx.Component:
    return rx.el.details(
        rx.el.summary(rx.text("Options: retry, timeout, sleep, conditions, approval, mock", size="2",
                              as_="span")),
        rx.grid(
            _option_input("Retries", "retry_attempts", "0"),
            _option_input("Seconds between retries", "retry_seconds", "0"),
            _option_input("Timeout (s)", "timeout", "none"),
            _option_input("Sleep after (s)", "sleep", "0"),
            _option_input("Approvals needed (suspend)", "suspend_events", "none"),
            _option_input("Approval timeout (s)", "suspend_timeout", "none"),
            columns="2",
            spacing="2",
            width="100%",
        ),
        _option_input("Skip if (expression)", "skip_if"),
        _option_input("Stop after if (expression over result)", "stop_after_if"),
        _option_switch("Continue on error", "continue_on_error"),
        _option_switch("Mock (return the value below instead of running)", "mock_enabled"),
        _option_input("Mock return value (JSON)", "mock_value"),
        _error(EditorPanelState.option_error, "option"),
        width="100%",
    )


def _setting_switch(label: str, name: str, explicit: str) -> rx.Component:
    return rx.hstack(
        rx.switch(checked=EditorPanelState.container[name] == "true", size="1",
                  on_change=lambda v: EditorPanelState.set_container_setting(name, v),
                  custom_attrs={"data-setting": name, "data-effective": EditorPanelState.container[name]}),
        rx.text(label, size="1"),
        rx.cond(EditorPanelState.container[explicit] == "false", rx.text("(default)", size="1", color_scheme="gray")),
        align="center",
    )


def _branch_row(branch: rx.Var[dict[str, str]]) -> rx.Component:
    index = branch["index"].to(str)
    return rx.vstack(
        rx.input(value=branch["summary"].to(str), size="1", placeholder="summary",
                 on_change=lambda v: EditorPanelState.set_branch_field(index, "summary", v)),
        rx.cond(EditorPanelState.sel_kind == "branchone",
                rx.input(value=branch["expr"].to(str), size="1", font_family="monospace", placeholder="condition",
                         on_change=lambda v: EditorPanelState.set_branch_field(index, "expr", v),
                         custom_attrs={"data-branch-expr": index})),
        spacing="1",
        width="100%",
        padding_bottom="0.4rem",
        border_bottom="1px solid var(--gray-a4)",
    )


def _container_settings() -> rx.Component:
    loop = (EditorPanelState.sel_kind == "forloopflow") | (EditorPanelState.sel_kind == "whileloopflow")
    return rx.vstack(
        rx.cond(EditorPanelState.sel_kind == "forloopflow", _labelled("Iterator (expression)", rx.input(
            value=EditorPanelState.container["iterator"], font_family="monospace",
            on_change=lambda v: EditorPanelState.set_container_setting("iterator", v),
            custom_attrs={"data-setting": "iterator"}))),
        rx.cond(loop, rx.vstack(
            _setting_switch("Skip failed iterations", "skip_failures", "explicit_skip_failures"),
            _setting_switch("Run iterations in parallel", "parallel", "explicit_parallel"),
            _labelled("Parallelism", rx.input(value=EditorPanelState.container["parallelism"], size="1",
                                              placeholder="all at once",
                                              on_change=lambda v: EditorPanelState.set_container_setting("parallelism", v))),
            spacing="2", width="100%")),
        rx.cond(EditorPanelState.sel_kind == "branchall",
                _setting_switch("Run branches in parallel", "parallel", "explicit_parallel")),
        rx.cond((EditorPanelState.sel_kind == "branchone") | (EditorPanelState.sel_kind == "branchall"), rx.vstack(
            rx.text("Branches", size="2", weight="medium"),
            rx.foreach(EditorPanelState.branches, _branch_row),
            rx.button("Add branch", size="1", variant="soft", on_click=EditorPanelState.add_branch),
            spacing="1", width="100%")),
        width="100%",
        spacing="2",
    )


def _step_panel() -> rx.Component:
    scriptlike = (EditorPanelState.sel_kind == "rawscript") | (EditorPanelState.sel_kind == "script")
    return rx.vstack(
        _step_header(),
        rx.cond(EditorPanelState.sel_kind == "rawscript", _code()),
        rx.cond(EditorPanelState.sel_kind == "script", _labelled("Script path", rx.input(
            value=EditorPanelState.sel_script_path, on_change=EditorPanelState.set_script_path,
            custom_attrs={"data-field": "script-path"}))),
        rx.cond(scriptlike, rx.vstack(rx.text("Inputs", size="2", weight="medium"),
                                      rx.foreach(EditorPanelState.inputs, _input_row), spacing="2", width="100%")),
        _container_settings(),
        _options(),
        width="100%",
        spacing="3",
        custom_attrs={"data-panel": "step"},
    )


# ---- previews ----------------------------------------------------------------------------

def _arg_field(field: rx.Var[dict[str, Any]]) -> rx.Component:
    """A field of the Test flow form: the Run page's generated field, its text kept in the
    editor's state (the step previews need it too)."""
    name = field["name"].to(str)
    initial = rx.cond(field["kind"].to(str) == "boolean", rx.cond(field["checked"].to(bool), "true", "false"),
                      field["value"].to(str))
    return bound_field(field, EditorPreviewState.args_text.get(name, initial).to(str),
                       lambda value: EditorPreviewState.set_arg(name, value))


def _labelled_var(label: rx.Var[str], child: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), child, spacing="1", width="100%")


def _preview_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    key = row["key"].to(str)
    return rx.vstack(
        rx.hstack(rx.code(key), status_badge(row["status"].to(str)),
                  rx.text(row["duration"].to(str), size="1", color_scheme="gray"), align="center"),
        rx.cond(row["error"].to(str) != "", rx.text(row["error"].to(str), size="1", color_scheme="red")),
        rx.cond(row["logs"].to(str) != "", rx.el.pre(row["logs"].to(str), custom_attrs={"data-preview-logs": key},
                                                    style={"font_size": "11px", "max_height": "8rem",
                                                           "overflow": "auto", "margin": "0",
                                                           "white_space": "pre-wrap"})),
        rx.cond(row["truncated"].to(str) == "true", rx.hstack(
            rx.text("Result is ", row["size"].to(str), "; showing the start.", size="1",
                    custom_attrs={"data-truncated": key}),
            rx.button("Download", size="1", variant="soft", on_click=EditorPreviewState.download_result(key),
                      custom_attrs={"data-download": key}),
            align="center")),
        rx.cond(row["result"].to(str) != "", rx.el.pre(
            row["result"].to(str), custom_attrs={"data-preview-result": key, "data-step": row["step_id"].to(str)},
            style={"font_size": "11px", "max_height": "10rem", "overflow": "auto", "margin": "0",
                   "background": "var(--gray-a3)", "padding": "0.35rem"})),
        spacing="1",
        width="100%",
        padding_y="0.35rem",
        border_bottom="1px solid var(--gray-a4)",
    )


def _previews() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Test flow", size="2", weight="medium"),
            rx.spacer(),
            rx.button(rx.icon("play", size=14), "Test flow", size="1", on_click=EditorPreviewState.run_preview("flow"),
                      disabled=EditorPreviewState.preview_running, custom_attrs={"data-action": "test-flow"}),
            align="center",
            width="100%",
        ),
        rx.foreach(EditorPreviewState.form_fields, _arg_field),
        rx.cond(EditorPreviewState.preview_status != "", rx.hstack(
            rx.text("Preview", size="1"), status_badge(EditorPreviewState.preview_status),
            rx.cond(EditorPreviewState.preview_running, rx.spinner(size="1")),
            align="center", custom_attrs={"data-preview-status": EditorPreviewState.preview_status})),
        _error(EditorPreviewState.preview_error, "preview"),
        rx.foreach(EditorPreviewState.preview_rows, _preview_row),
        width="100%",
        spacing="2",
        custom_attrs={"data-panel": "preview"},
    )


def _side() -> rx.Component:
    return rx.vstack(
        rx.cond(EditorPanelState.selected != "", _step_panel(),
                rx.text("Select a step to edit it.", size="2", color_scheme="gray")),
        rx.separator(),
        _previews(),
        width="27rem",
        flex_shrink="0",
        height=CANVAS_HEIGHT,
        overflow_y="auto",
        padding_right="0.25rem",
        spacing="3",
    )


# ---- history -------------------------------------------------------------------------------

DIFF_COLOURS = {"added": "var(--green-a4)", "removed": "var(--red-a4)", "gap": "var(--gray-a3)"}
DIFF_MARKS = {"added": "+", "removed": "-", "gap": " "}


def _version_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    version = row["version"].to(str)

    def side(label: str, name: str, chosen: rx.Var[str]) -> rx.Component:
        return rx.button(label, size="1", variant=rx.cond(chosen == version, "solid", "outline"),
                         on_click=EditorHistoryState.pick_diff(name, version),
                         custom_attrs={f"data-diff-{name}": version})

    return rx.table.row(
        rx.table.cell(rx.badge("v", version, variant="soft")),
        rx.table.cell(rx.text(row["when"].to(str), size="1")),
        rx.table.cell(rx.text(row["by"].to(str), size="1")),
        rx.table.cell(rx.text(row["summary"].to(str), size="1")),
        rx.table.cell(rx.hstack(side("from", "from", EditorHistoryState.diff_from), side("to", "to", EditorHistoryState.diff_to),
                                rx.button("Load", size="1", variant="ghost",
                                          on_click=EditorHistoryState.restore_version(version),
                                          custom_attrs={"data-restore": version}),
                                spacing="1")),
        custom_attrs={"data-version": version},
    )


def _diff_line(line: rx.Var[dict[str, str]]) -> rx.Component:
    kind = line["kind"].to(str)
    return rx.el.div(
        rx.el.span(line["old"].to(str), style={"width": "3em", "display": "inline-block", "color": "var(--gray-9)"}),
        rx.el.span(line["new"].to(str), style={"width": "3em", "display": "inline-block", "color": "var(--gray-9)"}),
        rx.el.span(rx.match(kind, *DIFF_MARKS.items(), " "), " ", line["text"].to(str)),
        custom_attrs={"data-diff-line": kind},
        style={"background": rx.match(kind, *DIFF_COLOURS.items(), "transparent"), "white_space": "pre",
               "font_family": "var(--code-font-family)", "font_size": "12px", "padding": "0 0.4rem"},
    )


def _history() -> rx.Component:
    return rx.vstack(
        rx.text("Every save is a version. Pick two to compare their YAML.", size="2", color_scheme="gray"),
        rx.table.root(
            rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in
                                           ("Version", "Saved (UTC)", "By", "Summary", "Compare")))),
            rx.table.body(rx.foreach(EditorHistoryState.history, _version_row)),
            size="1",
            width="100%",
        ),
        rx.hstack(rx.text("Changes from v", EditorHistoryState.diff_from, " to v", EditorHistoryState.diff_to, size="2",
                          weight="medium"),
                  rx.badge(EditorHistoryState.diff_summary, variant="soft", custom_attrs={"data-diff-summary": ""}),
                  align="center"),
        rx.box(rx.foreach(EditorHistoryState.diff, _diff_line), width="100%", overflow_x="auto",
               border="1px solid var(--gray-a5)", border_radius="6px", custom_attrs={"data-diff": ""}),
        width="100%",
        spacing="3",
        custom_attrs={"data-panel": "history"},
    )


def _views() -> rx.Component:
    return rx.tabs.root(
        rx.tabs.list(
            rx.tabs.trigger("Graph", value="graph", custom_attrs={"data-view": "graph"}),
            rx.tabs.trigger("Input schema", value="schema", custom_attrs={"data-view": "schema"}),
            rx.tabs.trigger("History", value="history", custom_attrs={"data-view": "history"}),
            size="1",
        ),
        value=EditorState.view,
        on_change=EditorState.set_view,
    )


def _editor() -> rx.Component:
    return rx.vstack(
        _toolbar(),
        _drafts(),
        rx.cond(EditorState.problem != "", rx.callout(EditorState.problem, color_scheme="red", size="1",
                                                      icon="triangle_alert", custom_attrs={"data-problem": ""})),
        rx.cond(EditorState.warning != "", rx.callout(EditorState.warning, color_scheme="amber", size="1",
                                                      icon="triangle_alert", custom_attrs={"data-warning": ""})),
        _views(),
        # The canvas stays mounted while another view shows: it keeps its own node state.
        rx.hstack(_palette(), _canvas(), _side(), spacing="3", width="100%", align="start",
                  display=rx.cond(EditorState.view == "graph", "flex", "none")),
        rx.cond(EditorState.view == "schema", schema_editor(
            EditorState.schema_rows, EditorState.schema_problems, EditorState.schema_json,
            on_add=EditorState.add_schema_field, on_remove=EditorState.remove_schema_field,
            on_set=EditorState.set_schema_field)),
        rx.cond(EditorState.view == "history", _history()),
        width="100%",
        spacing="2",
    )


@template("Flow editor", "Flows")
def page() -> rx.Component:
    return rx.cond(
        EditorState.found,
        _editor(),
        rx.vstack(rx.text("No flow at this path."), rx.link("Back to flows", href=routes.FLOWS)),
    )
