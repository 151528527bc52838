"""One run: status, args, result, and every step with its status, duration and logs."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.states.run import RunState
from components.flow_canvas import flow_graph_view
from app.pages.layout import template
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
            rx.link(rx.code(step["step_id"].to(str)), on_click=RunState.open_step(key), cursor="pointer",
                    custom_attrs={"data-open-step": key}),
            rx.cond(step["iteration"].to(str) != "", rx.text("#", step["iteration"].to(str), color_scheme="gray")),
            status_badge(step["status"].to(str)),
            rx.text(step["duration"].to(str), size="2", color_scheme="gray"),
            rx.cond((step["attempts"].to(str) != "0") & (step["attempts"].to(str) != "1"),
                    rx.text(step["attempts"].to(str), " attempts", size="2", color_scheme="gray")),
            align="center",
        ),
        rx.cond(step["error"].to(str) != "", rx.text(step["error"].to(str), color_scheme="red", size="2")),
        rx.cond(step["loop"].to(str) != "", _loop(step)),
        rx.cond(
            logs != "",
            rx.el.pre(logs, custom_attrs={"data-logs": key}, class_name="logs",
                      style={"font_size": "12px", "max_height": "16rem", "overflow": "auto", "margin": "0.25rem 0",
                             "padding": "0.5rem", "background": "var(--gray-a3)", "white_space": "pre-wrap"}),
        ),
        rx.cond(step["log_range"].to(str) != "", _log_pager(step)),
        custom_attrs={"data-step": key},
        padding_y="0.5rem",
        padding_left=rx.cond(step["depth"].to(str) == "1", "1.5rem", "0"),
        border_bottom="1px solid var(--gray-a4)",
        width="100%",
    )


def _page_button(label: str, step: rx.Var[dict[str, str]], where: str, what: str) -> rx.Component:
    start = step[where].to(str)
    return rx.button(label, size="1", variant="soft", disabled=start == "",
                     on_click=RunState.turn_page(what, step["key"].to(str), start), custom_attrs={"data-page": where})


def _log_pager(step: rx.Var[dict[str, str]]) -> rx.Component:
    """Which of a step's log lines are shown, and the way to its earlier and later ones."""
    return rx.hstack(
        _page_button("‹ earlier lines", step, "log_prev", "logs"),
        rx.text(step["log_range"].to(str), size="1", color_scheme="gray",
                custom_attrs={"data-log-range": step["key"].to(str)}),
        _page_button("later lines ›", step, "log_next", "logs"),
        align="center",
    )


def _loop(step: rx.Var[dict[str, str]]) -> rx.Component:
    """A loop's summary and the controls that page through its iterations."""
    return rx.hstack(
        rx.text(step["loop"].to(str), size="2", custom_attrs={"data-loop-summary": step["key"].to(str)}),
        rx.spacer(),
        _page_button("« first", step, "first", "iterations"),
        _page_button("‹ previous", step, "prev", "iterations"),
        rx.text("iterations ", step["range"].to(str), size="2", color_scheme="gray",
                custom_attrs={"data-loop-range": step["key"].to(str)}),
        _page_button("next ›", step, "next", "iterations"),
        _page_button("last »", step, "last", "iterations"),
        align="center",
        width="100%",
        custom_attrs={"data-loop": step["key"].to(str)},
    )


def _bar(bar: rx.Var[dict[str, str]]) -> rx.Component:
    status = bar["status"].to(str)
    color = rx.match(status, ("success", "var(--green-9)"), ("failure", "var(--red-9)"),
                     ("running", "var(--blue-9)"), ("skipped", "var(--gray-8)"), "var(--purple-9)")
    return rx.hstack(
        rx.text(bar["label"].to(str), rx.cond(bar["reused"].to(str) == "true", rx.badge("reused", size="1", variant="soft",
                                                                                        margin_left="0.35rem")),
                size="1", width="14rem", flex_shrink="0", padding_left=bar["indent"].to(str),
                overflow="hidden", text_overflow="ellipsis", white_space="nowrap", font_family="var(--code-font-family)"),
        rx.box(
            rx.tooltip(
                rx.box(position="absolute", left=bar["left"].to(str), width=bar["width"].to(str), top="3px",
                       height="12px", border_radius="3px", background=color,
                       opacity=rx.cond(bar["reused"].to(str) == "true", "0.4", "1"),
                       custom_attrs={"data-bar": bar["key"].to(str), "data-status": status,
                                     "data-reused": bar["reused"].to(str)}),
                content=bar["duration"].to(str),
            ),
            position="relative", height="18px", flex_grow="1", background="var(--gray-a2)", border_radius="3px",
        ),
        rx.text(bar["duration"].to(str), size="1", color_scheme="gray", width="5rem", flex_shrink="0"),
        width="100%",
        align="center",
        spacing="2",
    )


def _timeline() -> rx.Component:
    return rx.cond(
        RunState.timeline.length() > 0,
        rx.vstack(rx.heading("Timeline", size="4"), rx.foreach(RunState.timeline, _bar),
                  width="100%", spacing="1", custom_attrs={"data-block": "timeline"}),
    )


_PRE = {"font_size": "12px", "max_height": "20rem", "overflow": "auto", "margin": "0.25rem 0", "padding": "0.5rem",
        "background": "var(--gray-a3)", "white_space": "pre-wrap"}


def _detail_json(title: str, name: str) -> rx.Component:
    text = RunState.detail[name].to(str)
    return rx.cond(text != "", rx.box(
        rx.text(title, weight="medium", size="2"),
        rx.el.pre(text, custom_attrs={"data-detail": name}, style=_PRE),
        width="100%"))


def _result_pager() -> rx.Component:
    d = RunState.detail

    def turn(label: str, where: str, name: str) -> rx.Component:
        return rx.button(label, size="1", variant="soft", disabled=d[where].to(str) == "",
                         on_click=RunState.result_page(d[where].to(str)), custom_attrs={"data-result-page": name})

    return rx.cond(d["result_part"].to(str) != "", rx.hstack(
        turn("‹ earlier", "result_prev", "prev"),
        rx.text(d["result_part"].to(str), size="1", color_scheme="gray", custom_attrs={"data-result-part": ""}),
        turn("later ›", "result_next", "next"),
        align="center"))


def _detail() -> rx.Component:
    """The step opened by a click on its node or its row: what it was given and gave back."""
    d = RunState.detail
    return rx.cond(d.length() > 0, rx.card(rx.vstack(
        rx.hstack(rx.heading("Step ", rx.code(d["key"].to(str)), size="3"), status_badge(d["status"].to(str)),
                  rx.spacer(), rx.button("Close", size="1", variant="ghost", on_click=RunState.open_step(d["key"])),
                  align="center", width="100%"),
        rx.text("started ", d["started"].to(str), " · finished ", d["finished"].to(str), " · ",
                d["duration"].to(str), " · attempts ", d["attempts"].to(str), size="2", color_scheme="gray",
                custom_attrs={"data-detail": "timing"}),
        rx.cond(d["error"].to(str) != "", rx.text(d["error"].to(str), color_scheme="red", size="2")),
        _detail_json("Arguments", "args"),
        _detail_json("Result", "result"),
        _result_pager(),
        _detail_json("Logs", "logs"),
        width="100%", spacing="2"),
        width="100%", custom_attrs={"data-block": "step-detail"}))


def _graph() -> rx.Component:
    return rx.cond(
        RunState.graph_nodes.length() > 2,  # more than the flow input and result marks
        rx.vstack(
            rx.heading("Graph", size="4"),
            rx.box(
                flow_graph_view(RunState.graph_nodes, RunState.graph_edges, RunState.graph_version,
                                RunState.node_statuses, RunState.node_durations, RunState.shown_id,
                                selected=RunState.detail_node, on_select=RunState.open_node),
                width="100%", height="28rem", border="1px solid var(--gray-a5)", border_radius="8px",
                overflow="hidden", custom_attrs={"data-block": "run-graph"},
            ),
            width="100%",
        ),
    )


def _actions() -> rx.Component:
    return rx.hstack(
        rx.cond(RunState.cancelable,
                rx.button("Cancel run", on_click=RunState.cancel, color_scheme="red", variant="soft",
                          custom_attrs={"data-action": "cancel"})),
        rx.button("Re-run", on_click=RunState.rerun, variant="soft", custom_attrs={"data-action": "rerun"}),
        rx.select(RunState.restart_keys, value=RunState.restart_from, on_change=RunState.set_restart_from,
                  placeholder="restart from step…", custom_attrs={"data-field": "restart-from"}),
        rx.button("Restart from step", on_click=RunState.restart, variant="soft",
                  custom_attrs={"data-action": "restart"}),
        rx.cond(RunState.action_problem != "", rx.text(RunState.action_problem, color_scheme="red", size="2")),
        align="center",
    )


def _found() -> rx.Component:
    return rx.vstack(
        rx.hstack(status_badge(RunState.status), rx.code(RunState.shown_id), rx.spacer(), _actions(),
                  align="center", width="100%"),
        rx.cond(RunState.restarted_from != "",
                rx.text("Restarted from run ", rx.link(rx.code(RunState.restarted_from[:8]),
                                                        href=routes.run_url(RunState.restarted_from)), size="2")),
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
        _graph(),
        _detail(),
        _timeline(),
        rx.cond(RunState.decisions.length() > 0, _decisions()),
        rx.heading("Steps", size="4"),
        rx.vstack(rx.foreach(RunState.steps, _step), width="100%", spacing="0",
                  custom_attrs={"data-block": "steps"}),
        width="100%",
        spacing="3",
    )


def _decision(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(*[rx.table.cell(row[key].to(str)) for key in
                          ("when", "step", "approver", "verdict", "comment", "payload")])


def _decisions() -> rx.Component:
    headers = ("When", "Step", "Approver", "Decision", "Comment", "Payload")
    return rx.vstack(
        rx.heading("Approvals", size="4"),
        rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                      rx.table.body(rx.foreach(RunState.decisions, _decision)), width="100%"),
        width="100%",
        custom_attrs={"data-block": "decisions"},
    )


@template("Run", "Runs")
def page() -> rx.Component:
    return rx.cond(RunState.found, _found(), rx.text("No run has this id."))
