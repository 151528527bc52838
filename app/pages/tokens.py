"""API tokens: create one (its secret is shown once), the list by prefix, delete."""

from __future__ import annotations

import reflex as rx

from app.states.tokens import TokensState as S
from app.pages.layout import template


def _row(item: rx.Var[dict[str, str]]) -> rx.Component:
    prefix = item["prefix"].to(str)
    return rx.table.row(
        rx.table.cell(rx.code(prefix)),
        rx.table.cell(item["label"].to(str)),
        rx.table.cell(item["owner"].to(str)),
        rx.table.cell(item["created"].to(str)),
        rx.table.cell(rx.button("Delete", size="1", variant="soft", color_scheme="red", on_click=S.delete(prefix),
                                custom_attrs={"data-action": "delete-token"})),
        custom_attrs={"data-token-prefix": prefix},
    )


def _form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(name="label", placeholder="label, e.g. ci", width="16rem", custom_attrs={"data-field": "label"}),
            rx.button("Create token", type="submit", custom_attrs={"data-action": "create-token"}),
            align="center",
        ),
        on_submit=S.create,
        reset_on_submit=True,
    )


@template("API tokens", "API tokens")
def page() -> rx.Component:
    return rx.vstack(
        _form(),
        rx.cond(S.problem != "", rx.text(S.problem, color_scheme="red", size="2",
                                         custom_attrs={"data-problem": "tokens"})),
        rx.cond(
            S.new_token != "",
            rx.callout(
                rx.vstack(rx.text("Copy this token now: it is not shown again."),
                          rx.code(S.new_token, custom_attrs={"data-new-token": "1"})),
                icon="key-round", color_scheme="green",
            ),
        ),
        rx.cond(
            S.tokens.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Prefix", "Label", "Owner", "Created", "")])),
                rx.table.body(rx.foreach(S.tokens, _row)),
                width="100%",
                custom_attrs={"data-table": "tokens"},
            ),
            rx.text("No tokens yet.", color_scheme="gray"),
        ),
        width="100%",
        spacing="3",
    )
