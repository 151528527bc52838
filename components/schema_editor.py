"""A field editor for a JSON Schema of an object, with the schema shown beside it.

Pure function of vars: the rows come from `components.schema_fields.to_rows`; edits go out
through three event callables, so the page's state decides what an edit does.
"""

from __future__ import annotations

from typing import Any, Callable

import reflex as rx

from components.schema_fields import FIELD_TYPES, NO_FORMAT, STRING_FORMATS

Row = rx.Var[dict[str, str]]


def _labelled(label: str, child: rx.Component, **props: Any) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), child, spacing="1", **props)


def _field_row(row: Row, problems: rx.Var[dict[str, str]], on_remove: Callable[[Any], Any],
               on_set: Callable[[Any, str, Any], Any]) -> rx.Component:
    index = row["index"].to(str)

    def text_input(key: str, placeholder: str = "", **props: Any) -> rx.Component:
        return rx.input(value=row[key].to(str), placeholder=placeholder, size="1", width="100%",
                        on_change=lambda v: on_set(index, key, v),
                        custom_attrs={f"data-field-{key}": index}, **props)

    def picker(key: str, items: list[str]) -> rx.Component:
        return rx.box(rx.select(items, value=row[key].to(str), size="1", on_change=lambda v: on_set(index, key, v)),
                      custom_attrs={f"data-field-{key}": index})

    is_string = row["type"].to(str) == "string"
    return rx.vstack(
        rx.hstack(
            _labelled("Name", text_input("name", font_family="monospace"), flex="1"),
            _labelled("Type", picker("type", list(FIELD_TYPES))),
            _labelled("Required", rx.switch(checked=row["required"].to(str) == "true",
                                            on_change=lambda v: on_set(index, "required", v),
                                            custom_attrs={"data-field-required": index})),
            rx.icon_button(rx.icon("trash-2", size=14), size="1", color_scheme="red", variant="soft",
                           on_click=on_remove(index), custom_attrs={"data-field-remove": index}),
            align="end",
            width="100%",
        ),
        rx.cond(is_string, rx.hstack(
            _labelled("Format", picker("format", [NO_FORMAT, *STRING_FORMATS])),
            _labelled("Pattern (regex)", text_input("pattern", font_family="monospace"), flex="1"),
            align="end", width="100%")),
        rx.hstack(
            _labelled("Default", text_input("default", "none"), flex="1"),
            _labelled("Choices (a, b, c or JSON list)", text_input("enum", "any value"), flex="1"),
            width="100%",
        ),
        _labelled("Description", text_input("description"), width="100%"),
        rx.cond(problems.get(index, "") != "", rx.text(problems.get(index, ""), size="1", color_scheme="red",
                                                      custom_attrs={"data-field-problem": index})),
        spacing="2",
        width="100%",
        padding="0.6rem",
        border="1px solid var(--gray-a5)",
        border_radius="6px",
        custom_attrs={"data-schema-field": row["name"].to(str)},
    )


def schema_editor(
    rows: rx.Var[list[dict[str, str]]],
    problems: rx.Var[dict[str, str]],
    schema_json: rx.Var[str],
    on_add: Any,
    on_remove: Callable[[Any], Any],
    on_set: Callable[[Any, str, Any], Any],
) -> rx.Component:
    """Field rows on the left (add, remove, edit), the resulting JSON Schema on the right."""
    fields = rx.vstack(
        rx.hstack(rx.text("Inputs of the flow", size="3", weight="medium"), rx.spacer(),
                  rx.button(rx.icon("plus", size=14), "Add field", size="1", on_click=on_add,
                            custom_attrs={"data-action": "add-field"}),
                  width="100%", align="center"),
        rx.cond(rows.length() == 0, rx.text("This flow takes no inputs yet.", size="2", color_scheme="gray")),
        rx.foreach(rows, lambda row: _field_row(row, problems, on_remove, on_set)),
        spacing="2",
        flex="1",
        min_width="0",
    )
    json_view = rx.vstack(
        rx.text("JSON Schema", size="3", weight="medium"),
        rx.el.pre(schema_json, custom_attrs={"data-schema-json": ""},
                  style={"font_size": "12px", "margin": "0", "padding": "0.6rem", "width": "100%",
                         "background": "var(--gray-a3)", "border_radius": "6px", "overflow": "auto"}),
        spacing="2",
        width="26rem",
        flex_shrink="0",
    )
    return rx.hstack(fields, json_view, spacing="4", width="100%", align="start",
                     custom_attrs={"data-panel": "schema"})
