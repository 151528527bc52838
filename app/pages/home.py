"""Home: counts, success rate and p95 duration per flow, failures by step, recent runs."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import routes
from app.states.home import HomeState
from app.pages.layout import template
from components.runs_table import runs_table


def _stat(label: str, value: rx.Var[int], href: str, name: str) -> rx.Component:
    return rx.link(
        rx.card(rx.vstack(rx.text(label, size="2", color_scheme="gray"),
                          rx.heading(value, size="6", custom_attrs={"data-stat": name}))),
        href=href,
        underline="none",
    )


def _chart(title: str, key: str, unit: str, color: str) -> rx.Component:
    return rx.card(
        rx.text(title, weight="medium", size="2"),
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
            # Every flow named (recharts skips names that would overlap): turned, each under its bar.
            rx.recharts.x_axis(data_key="path", interval=0, height=120,
                               tick={"fontSize": 11, "angle": -35, "textAnchor": "end"}),
            rx.recharts.y_axis(unit=unit, tick={"fontSize": 11}),
            rx.recharts.graphing_tooltip(),
            rx.recharts.bar(data_key=key, fill=color, is_animation_active=False),
            data=HomeState.stats,
            margin={"left": 40, "top": 5, "right": 10},  # room for the first name, turned
            width="100%",
            height=320,
        ),
        width="100%",
        custom_attrs={"data-chart": key},
    )


def _stat_row(row: rx.Var[dict[str, Any]]) -> rx.Component:
    path = row["path"].to(str)
    return rx.table.row(
        rx.table.cell(rx.link(path, href="/runs?flow=" + path)),
        rx.table.cell(row["runs"].to(str)),
        rx.table.cell(row["success_rate"].to(str), "%"),
        rx.table.cell(row["p95"].to(str), " s"),
        custom_attrs={"data-flow-stat": path},
    )


def _failure_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["path"].to(str)),
        rx.table.cell(rx.code(row["step_id"].to(str))),
        rx.table.cell(row["failures"].to(str)),
        custom_attrs={"data-failure": row["path"].to(str) + ":" + row["step_id"].to(str)},
    )


def _table(headers: tuple[str, ...], rows: Any, render: Any, name: str) -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(rows, render)),
        size="1",
        width="100%",
        custom_attrs={"data-table": name},
    )


@template("Home", "Home")
def page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            _stat("Flows", HomeState.flow_count, routes.FLOWS, "flows"),
            _stat("Runs", HomeState.run_count, routes.RUNS, "runs"),
            _stat("Waiting for approval", HomeState.pending_count, routes.APPROVALS, "pending"),
        ),
        rx.cond(
            HomeState.stats.length() > 0,
            rx.vstack(
                rx.grid(_chart("Success rate per flow", "success_rate", "%", "var(--green-9)"),
                        _chart("p95 duration per flow", "p95", " s", "var(--iris-9)"),
                        columns="2", spacing="4", width="100%"),
                rx.grid(
                    _table(("Flow", "Runs", "Success", "p95"), HomeState.stats, _stat_row, "flow-stats"),
                    rx.vstack(
                        rx.heading("Failures by step", size="3"),
                        rx.cond(HomeState.failures.length() > 0,
                                _table(("Flow", "Step", "Failures"), HomeState.failures, _failure_row, "failures"),
                                rx.text("No failures.", color_scheme="gray", size="2")),
                        width="100%",
                    ),
                    columns="2", spacing="4", width="100%",
                ),
                width="100%",
                spacing="4",
            ),
        ),
        rx.heading("Recent runs", size="4", margin_top="1rem"),
        runs_table(HomeState.recent, routes.run_url),
        width="100%",
        spacing="3",
    )
