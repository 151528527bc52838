"""Approvals inbox: runs waiting on a step's approval, quick approve/reject buttons, and a
review panel with the earlier steps' results, the step's resume form and a comment."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.states.approvals import ApprovalsState as S
from app.states.approvals import COMMENT_FIELD
from app.pages.layout import template
from components.schema_form import schema_form


def _row(row: rx.Var[dict[str, str]]) -> rx.Component:
    run_id = row["id"].to(str)
    return rx.table.row(
        rx.table.cell(rx.link(rx.code(row["short_id"].to(str)), href=routes.run_url(run_id))),
        rx.table.cell(row["path"].to(str)),
        rx.table.cell(rx.code(row["step"].to(str))),
        rx.table.cell(row["progress"].to(str)),
        rx.table.cell(row["asked_of"].to(str), custom_attrs={"data-asked-of": row["asked_of"].to(str)}),
        rx.table.cell(row["asked"].to(str)),
        rx.table.cell(row["deadline"].to(str)),
        rx.table.cell(rx.hstack(
            rx.button("Review", size="1", variant="outline", on_click=S.start_review(run_id),
                      custom_attrs={"data-action": "review"}),
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
                    "Run", "Flow", "Step", "Approvals", "Asked of", "Asked", "Deadline", "")])),
                rx.table.body(rx.foreach(S.waiting, _row)),
                width="100%",
                custom_attrs={"data-table": "approvals"},
            ),
            rx.text("No run is waiting for approval.", color_scheme="gray"),
        ),
        rx.cond(S.reviewing != "", _review()),
        width="100%",
        spacing="3",
    )


def _context_item(item: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.box(
        rx.text(rx.code(item["step"].to(str)), size="2"),
        rx.code_block(item["result"].to(str), language="json", font_size="12px"),
        custom_attrs={"data-context-step": item["step"].to(str)},
        width="100%",
    )


def _review() -> rx.Component:
    comment = rx.box(
        rx.text("Comment", weight="medium", size="2"),
        rx.text_area(name=COMMENT_FIELD, placeholder="why (kept in the run's audit trail)", rows="2",
                     width="100%", custom_attrs={"data-comment": "review"}),
        width="100%",
    )
    reject = rx.button("Reject", type="submit", color_scheme="red", variant="soft", on_click=S.choose_reject,
                       custom_attrs={"data-submit": "reject"})
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Review run ", rx.code(S.review["short_id"]), size="4"),
                rx.spacer(),
                rx.button("Close", size="1", variant="ghost", on_click=S.close_review),
                width="100%",
            ),
            rx.text(S.review["path"], " · step ", rx.code(S.review["step"]), " · asked ", S.review["asked"],
                    " · deadline ", S.review["deadline"], size="2", color_scheme="gray"),
            rx.cond(S.review["started_by"] != "", rx.text("Started by ", S.review["started_by"], size="2")),
            rx.heading("Earlier steps", size="3"),
            rx.foreach(S.context, _context_item),
            rx.heading("Decision", size="3"),
            schema_form(S, S.submit_review, "Approve", name="review",
                        extra=rx.hstack(reject, rx.cond(S.form_comment, rx.fragment(), comment), width="100%")),
            spacing="3",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-review": S.reviewing},
    )
