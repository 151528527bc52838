"""One run: status, args, result, and every step with its status, duration and logs."""

from __future__ import annotations

import reflex as rx

from app.states.run import RunState
from components.layout import template
from components.status import status_badge


def _fact(label: str, value: rx.Var[str]) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def _json_block(title: str, text: rx.Var[str], name: str) -> rx.Component:
    return rx.box(
        rx.heading(title, size="3", margin_bottom="0.5rem"),
        rx.code_block(text, language="json", custom_attrs={"data-block": name}),
        width="100%",
    )


def _step(step: rx.Var[dict[str, str]]) -> rx.Component:
    key = step["key"].to(str)
    logs = step["logs"].to(str)
    return rx.box(
        rx.hstack(
            rx.code(step["step_id"].to(str)),
            rx.cond(step["iteration"].to(str) != "", rx.text("#", step["iteration"].to(str), color_scheme="gray")),
            status_badge(step["status"].to(str)),
            rx.text(step["duration"].to(str), size="2", color_scheme="gray"),
            rx.cond((step["attempts"].to(str) != "0") & (step["attempts"].to(str) != "1"),
                    rx.text(step["attempts"].to(str), " attempts", size="2", color_scheme="gray")),
            align="center",
        ),
        rx.cond(step["error"].to(str) != "", rx.text(step["error"].to(str), color_scheme="red", size="2")),
        rx.cond(
            logs != "",
            rx.el.pre(logs, custom_attrs={"data-logs": key}, class_name="logs",
                      style={"font_size": "12px", "max_height": "16rem", "overflow": "auto", "margin": "0.25rem 0",
                             "padding": "0.5rem", "background": "var(--gray-a3)", "white_space": "pre-wrap"}),
        ),
        custom_attrs={"data-step": key},
        padding_y="0.5rem",
        border_bottom="1px solid var(--gray-a4)",
        width="100%",
    )


def _found() -> rx.Component:
    return rx.vstack(
        rx.hstack(status_badge(RunState.status), rx.code(RunState.shown_id), align="center"),
        rx.data_list.root(
            _fact("Flow", RunState.path),
            _fact("Trigger", RunState.trigger),
            _fact("Created", RunState.created),
            _fact("Started", RunState.started),
            _fact("Duration", RunState.duration),
        ),
        rx.cond(RunState.error_message != "", rx.callout(RunState.error_message, color_scheme="red", icon="triangle_alert")),
        rx.grid(
            _json_block("Args", RunState.args_json, "args"),
            rx.cond(RunState.result_json != "", _json_block("Result", RunState.result_json, "result")),
            columns="2",
            spacing="4",
            width="100%",
        ),
        rx.heading("Steps", size="4"),
        rx.foreach(RunState.steps, _step),
        rx.cond(RunState.logs_cut, rx.text("Only the first log lines are shown.", color_scheme="gray", size="2")),
        width="100%",
        spacing="3",
    )


@template("Run", "Runs")
def page() -> rx.Component:
    return rx.cond(RunState.found, _found(), rx.text("No run has this id."))
