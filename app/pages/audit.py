"""The audit log: who did what, when, newest first."""

from __future__ import annotations

import reflex as rx

from app.states.audit import AuditState as S
from app.pages.layout import template


def _row(item: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(item["when"].to(str)),
        rx.table.cell(item["actor"].to(str)),
        rx.table.cell(rx.badge(item["action"].to(str))),
        rx.table.cell(rx.code(item["target"].to(str))),
        rx.table.cell(item["detail"].to(str)),
        custom_attrs={"data-audit-action": item["action"].to(str)},
    )


@template("Audit log", "Audit log")
def page() -> rx.Component:
    return rx.cond(
        S.entries.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "When", "Who", "What", "On", "Detail")])),
            rx.table.body(rx.foreach(S.entries, _row)),
            width="100%",
            custom_attrs={"data-table": "audit"},
        ),
        rx.text("Nothing recorded yet.", color_scheme="gray"),
    )
