"""Schedules: the list with enable switches, and an editor whose cron is checked as you type."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import routes
from app.states.schedules import SchedulesState as S
from components.confirm import confirm_button
from app.pages.layout import template
from components.runs_table import runs_table
from components.schema_form import schema_form

HEADERS = ("Path", "Runs", "When", "Time zone", "Next firing", "Enabled", "")


def _row(row: rx.Var[dict[str, Any]]) -> rx.Component:
    path = row["path"].to(str)
    return rx.table.row(
        rx.table.cell(rx.link(rx.code(path), on_click=S.edit(path), cursor="pointer")),
        rx.table.cell(rx.text(row["kind"].to(str), " ", rx.code(row["target"].to(str)))),
        rx.table.cell(rx.text(row["words"].to(str)), rx.text(row["schedule"].to(str), size="1", color_scheme="gray")),
        rx.table.cell(row["timezone"].to(str)),
        rx.table.cell(rx.cond(row["error"].to(str) != "",
                              rx.text(row["error"].to(str), color_scheme="red", size="1",
                                      custom_attrs={"data-schedule-error": ""}),
                              rx.text(row["next"].to(str)))),
        rx.table.cell(rx.switch(checked=row["enabled"].to(bool), on_change=lambda on: S.toggle(path, on),
                                custom_attrs={"data-action": "toggle-schedule"})),
        rx.table.cell(confirm_button("Delete", "Delete this schedule?",
                                     rx.text(rx.code(path), " stops firing; its past runs stay."), S.delete(path),
                                     action="delete-schedule")),
        custom_attrs={"data-schedule-path": path},
    )


def _labelled(label: str, control: rx.Component, field: str = "") -> rx.Component:
    attrs = {"data-select": field} if field else {}
    return rx.vstack(rx.text(label, weight="medium", size="2"), control, spacing="1", width="100%",
                     custom_attrs=attrs)


def _timezone_search() -> rx.Component:
    """A box that offers the zones matching what is typed (the browser's own list: there
    are about 600 of them); a name it does not know shows as the preview's error."""
    return rx.fragment(
        rx.input(value=S.timezone, on_change=S.set_timezone, width="16rem", placeholder="type to search: Berlin",
                 custom_attrs={"list": "timezone-names", "data-field": "timezone", "autocomplete": "off"}),
        rx.el.datalist(rx.foreach(S.timezone_options, lambda name: rx.el.option(value=name)), id="timezone-names"),
    )


def _cron() -> rx.Component:
    return rx.vstack(
        _labelled("Cron (5 fields, or 6 with seconds first)",
                  rx.input(value=S.cron, on_change=S.set_cron, width="18rem", font_family="var(--code-font-family)",
                           custom_attrs={"data-field": "cron"})),
        rx.cond(
            S.cron_error != "",
            rx.text(S.cron_error, color_scheme="red", size="2", custom_attrs={"data-cron-error": ""}),
            rx.vstack(
                rx.text(S.cron_words, weight="bold", custom_attrs={"data-cron-words": ""}),
                rx.text("Next firings", size="1", color_scheme="gray"),
                rx.foreach(S.next_firings, lambda t: rx.text(t, size="1", font_family="var(--code-font-family)",
                                                             custom_attrs={"data-next-firing": ""})),
                spacing="1",
            ),
        ),
        spacing="2",
        width="100%",
    )


def _editor() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading(rx.cond(S.is_new, "New schedule", "Edit schedule"), size="4"),
                      rx.spacer(), rx.button("Close", variant="soft", size="1", on_click=S.close), width="100%"),
            _labelled("Path", rx.input(value=S.path, on_change=S.set_path, disabled=~S.is_new,
                                       placeholder="f/folder/nightly", width="18rem",
                                       custom_attrs={"data-field": "schedule-path"})),
            rx.hstack(
                _labelled("Runs a", rx.select(["flow", "script"], value=S.kind, on_change=S.set_kind,
                                              width="8rem"), "kind"),
                _labelled("Target", rx.select(S.targets, value=S.target, on_change=S.set_target, width="20rem",
                                              placeholder="choose…"), "target"),
                width="100%",
            ),
            _cron(),
            rx.hstack(
                _labelled("Time zone", _timezone_search(), "timezone"),
                _labelled("After downtime", rx.select.root(
                    rx.select.trigger(width="16rem"),
                    rx.select.content(rx.select.item("skip missed firings", value="skip"),
                                      rx.select.item("run the latest missed one", value="latest")),
                    value=S.catch_up, on_change=S.set_catch_up), "catch-up"),
                width="100%",
            ),
            _labelled("On failure (script/<path> or flow/<path>, given the error)",
                      rx.input(value=S.on_failure, on_change=S.set_on_failure, placeholder="script/f/alerts/notify",
                               width="24rem", custom_attrs={"data-field": "on-failure"})),
            rx.text("Arguments", weight="medium", size="2"),
            schema_form(S, S.save, "Save schedule", name="schedule-args"),
            rx.cond(S.problem != "", rx.text(S.problem, color_scheme="red", size="2",
                                             custom_attrs={"data-problem": "schedule"})),
            rx.cond(S.saved != "", rx.text(S.saved, color_scheme="green", size="2",
                                           custom_attrs={"data-saved": "schedule"})),
            rx.cond(~S.is_new, rx.vstack(rx.heading("Past runs", size="3"), runs_table(S.runs, routes.run_url), width="100%")),
            spacing="3",
            width="100%",
        ),
        width="100%",
        max_width="48rem",
        custom_attrs={"data-editor": "schedule"},
    )


@template("Schedules", "Schedules")
def page() -> rx.Component:
    return rx.vstack(
        rx.button("New schedule", on_click=S.new, custom_attrs={"data-action": "new-schedule"}),
        rx.cond(S.editing, _editor()),
        rx.cond(
            S.schedules.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in HEADERS])),
                rx.table.body(rx.foreach(S.schedules, _row)),
                width="100%",
                custom_attrs={"data-table": "schedules"},
            ),
            rx.text("No schedules yet.", color_scheme="gray"),
        ),
        width="100%",
        spacing="3",
    )
