"""Approvals: runs waiting on a step's approval, each with approve and reject buttons."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.states.approvals import ApprovalsState as S
from components.layout import template


def _row(row: rx.Var[dict[str, str]]) -> rx.Component:
    run_id = row["id"].to(str)
    return rx.table.row(
        rx.table.cell(rx.link(rx.code(row["short_id"].to(str)), href=routes.run_url(run_id))),
        rx.table.cell(row["path"].to(str)),
        rx.table.cell(rx.code(row["step"].to(str))),
        rx.table.cell(row["progress"].to(str)),
        rx.table.cell(row["asked"].to(str)),
        rx.table.cell(row["deadline"].to(str)),
        rx.table.cell(rx.hstack(
            rx.button("Approve", size="1", color_scheme="green", on_click=S.decide(run_id, True),
                      custom_attrs={"data-action": "approve"}),
            rx.button("Reject", size="1", color_scheme="red", variant="soft", on_click=S.decide(run_id, False),
                      custom_attrs={"data-action": "reject"}),
        )),
        custom_attrs={"data-run-id": run_id},
    )


@template("Approvals", "Approvals")
def page() -> rx.Component:
    return rx.vstack(
        rx.cond(S.notice != "", rx.callout(S.notice, icon="info", custom_attrs={"data-notice": "approvals"})),
        rx.cond(
            S.waiting.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Run", "Flow", "Step", "Approvals", "Asked", "Deadline", "")])),
                rx.table.body(rx.foreach(S.waiting, _row)),
                width="100%",
                custom_attrs={"data-table": "approvals"},
            ),
            rx.text("No run is waiting for approval.", color_scheme="gray"),
        ),
        width="100%",
        spacing="3",
    )
