"""The script editor: code, save, the form of `main`'s arguments, a run with live logs."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.states.script_editor import ScriptEditorState as S
from components.code_editor import code_editor
from app.pages.layout import template
from components.schema_form import schema_form
from components.status import status_badge

BLOCK_STYLE = {"font_size": "12px", "max_height": "20rem", "overflow": "auto", "margin": "0",
               "padding": "0.5rem", "background": "var(--gray-a3)", "white_space": "pre-wrap", "width": "100%"}


def _code() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.code(S.path), rx.badge(S.language, variant="soft"),
                  rx.text("version ", S.version, size="2", color_scheme="gray"), align="center"),
        # `value` changes only when Python loads the script; edits go to `draft` (see
        # components/code_editor.py for why they are two vars).
        rx.box(code_editor(value=S.loaded_code, language=S.language, height="28rem", on_change=S.set_draft,
                           key=S.editor_key.to_string()),
               width="100%", max_width="100%", overflow="hidden", border="1px solid var(--gray-a5)",
               custom_attrs={"data-field": "code", "data-code-editor": S.language}),
        rx.hstack(
            rx.button("Save", on_click=S.save, custom_attrs={"data-action": "save-script"}),
            rx.cond(S.notice != "", rx.text(S.notice, color_scheme="green", size="2")),
            align="center",
        ),
        rx.cond(S.problem != "", rx.callout(S.problem, color_scheme="red", icon="triangle_alert",
                                            custom_attrs={"data-problem": "script"})),
        _settings(),
        _lock(),
        width="100%",
        spacing="3",
    )


def _settings() -> rx.Component:
    """How the script runs: dedicated mode, saved with the next version."""
    return rx.vstack(
        rx.text("Settings", weight="medium", size="2"),
        rx.hstack(
            rx.switch(checked=S.dedicated, on_change=S.set_dedicated, custom_attrs={"data-field": "dedicated-worker"}),
            rx.text("Dedicated worker", size="2"),
            align="center",
        ),
        rx.text("Runs of this script (and flow steps using it) call main again in one warm sandboxed process "
                "per version: module state persists between runs. Applies from the next saved version.",
                size="1", color_scheme="gray"),
        width="100%",
        spacing="1",
    )


def _lock() -> rx.Component:
    """The saved version's dependencies, exactly as every run of it installs them."""
    return rx.vstack(
        rx.text("Dependencies (lock)", weight="medium", size="2"),
        rx.cond(S.lock != "",
                rx.el.pre(S.lock, custom_attrs={"data-block": "script-lock"}, style=BLOCK_STYLE),
                rx.text("None: the saved version imports nothing to install.", size="2", color_scheme="gray",
                        custom_attrs={"data-block": "script-lock-none"})),
        width="100%",
        spacing="1",
    )


def _run() -> rx.Component:
    return rx.vstack(
        rx.heading("Run", size="4"),
        schema_form(S, S.submit, "Run", name="script-args",
                    extra=rx.cond(S.running, rx.spinner(size="2"))),
        rx.cond(
            S.run_id != "",
            rx.vstack(
                rx.hstack(status_badge(S.run_status), rx.link(rx.code(S.run_id[:8]), href=routes.run_url(S.run_id)),
                          align="center", custom_attrs={"data-run-status": S.run_status}),
                rx.text("Logs", weight="medium", size="2"),
                rx.el.pre(S.run_logs, custom_attrs={"data-block": "script-logs"}, style=BLOCK_STYLE),
                rx.cond(S.run_error != "", rx.callout(S.run_error, color_scheme="red", icon="triangle_alert",
                                                      custom_attrs={"data-block": "script-error"})),
                rx.cond(S.result_json != "", rx.vstack(
                    rx.text("Result", weight="medium", size="2"),
                    rx.code_block(S.result_json, language="json", custom_attrs={"data-block": "script-result"}),
                    width="100%")),
                width="100%",
                spacing="2",
            ),
        ),
        rx.cond((S.run_id == "") & (S.run_error != ""),
                rx.callout(S.run_error, color_scheme="red", icon="triangle_alert")),
        width="100%",
        spacing="3",
    )


@template("Script", "Scripts")
def page() -> rx.Component:
    return rx.cond(
        S.found,
        rx.grid(_code(), _run(), columns="2", spacing="5", width="100%"),
        rx.vstack(rx.text("No script at this path."), rx.link("Back to scripts", href=routes.SCRIPTS)),
    )
