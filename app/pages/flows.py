"""The flows list: search; create, import, export, duplicate, delete; run from a form."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.states.flows import FlowsState as S
from app.pages.layout import template

UPLOAD_ID = "flow-file"


def _actions(path: rx.Var[str]) -> rx.Component:
    return rx.hstack(
        rx.link(rx.button("Run", size="1", variant="soft"), href=routes.flow_run_url(path),
                custom_attrs={"data-action": "run"}),
        rx.menu.root(
            rx.menu.trigger(rx.button("Export", size="1", variant="soft", custom_attrs={"data-action": "export"})),
            rx.menu.content(
                rx.menu.item("YAML", on_click=S.export(path, "yaml"), custom_attrs={"data-export": "yaml"}),
                rx.menu.item("JSON", on_click=S.export(path, "json"), custom_attrs={"data-export": "json"}),
            ),
        ),
        rx.button("Duplicate", size="1", variant="soft", on_click=S.open_dialog("duplicate", path),
                  custom_attrs={"data-action": "duplicate"}),
        rx.button("Delete", size="1", variant="soft", color_scheme="red", on_click=S.open_dialog("delete", path),
                  custom_attrs={"data-action": "delete"}),
        spacing="2",
    )


def _row(flow: rx.Var[dict[str, str]]) -> rx.Component:
    path = flow["path"].to(str)
    return rx.table.row(
        rx.table.cell(rx.link(path, href=routes.flow_editor_url(path))),
        rx.table.cell(flow["summary"].to(str)),
        rx.table.cell(flow["steps"].to(str)),
        rx.table.cell(flow["version"].to(str)),
        rx.table.cell(flow["edited"].to(str)),
        rx.table.cell(_actions(path)),
        custom_attrs={"data-flow-path": path},
    )


def _problem() -> rx.Component:
    return rx.cond(S.problem != "", rx.text(S.problem, color_scheme="red", size="2",
                                            custom_attrs={"data-problem": "flows"}))


def _buttons(label: str, name: str, color: str = "iris") -> rx.Component:
    return rx.hstack(
        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
        rx.button(label, type="submit", color_scheme=color, custom_attrs={"data-submit": name}),
        justify="end",
        width="100%",
    )


def _dialog(name: str, title: str, body: rx.Component) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(rx.dialog.title(title), body, custom_attrs={"data-dialog": name}, max_width="44rem"),
        open=S.dialog == name,
        on_open_change=S.dialog_open_changed,
    )


def _path_input(placeholder: str = "f/folder/name") -> rx.Component:
    return rx.input(name="path", placeholder=placeholder, width="100%", custom_attrs={"data-field": "path"})


def _new_dialog() -> rx.Component:
    return _dialog("new", "New flow", rx.form(
        rx.vstack(_path_input(), rx.input(name="summary", placeholder="Summary", width="100%"),
                  _problem(), _buttons("Create", "new"), spacing="3"),
        on_submit=S.create, reset_on_submit=False,
    ))


def _import_dialog() -> rx.Component:
    upload = rx.upload(
        rx.text("Drop a .yaml or .json file here, or click to choose one; for a flow whose steps say "
                "'!inline <file>' (as `wmill sync pull` writes it), drop a .zip of its folder, or flow.yaml "
                "together with its files", size="2", color_scheme="gray"),
        id=UPLOAD_ID,
        multiple=True,
        on_drop=S.upload(rx.upload_files(upload_id=UPLOAD_ID)),
        border="1px dashed var(--gray-a7)",
        padding="0.75rem",
        width="100%",
        custom_attrs={"data-upload": "flow"},
    )
    return _dialog("import", "Import an OpenFlow document", rx.form(
        rx.vstack(
            _path_input(),
            upload,
            rx.text_area(name="text", default_value=S.import_text, key=S.import_key, rows="14", width="100%",
                         placeholder="Paste OpenFlow YAML or JSON (a full document or a bare {modules: [...]})",
                         font_family="var(--code-font-family)", custom_attrs={"data-field": "flow-text"}),
            _problem(),
            _buttons("Import", "import"),
            spacing="3",
        ),
        on_submit=S.import_flow, reset_on_submit=False,
    ))


def _duplicate_dialog() -> rx.Component:
    return _dialog("duplicate", "Duplicate a flow", rx.form(
        rx.vstack(rx.text("Copy ", rx.code(S.target), " to:"), _path_input(), _problem(),
                  _buttons("Duplicate", "duplicate"), spacing="3"),
        on_submit=S.duplicate, reset_on_submit=False,
    ))


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this flow?"),
            rx.alert_dialog.description(rx.text("Every version of ", rx.code(S.target),
                                                " will be deleted. Its runs stay.")),
            _problem(),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button("Delete", color_scheme="red", on_click=S.delete, custom_attrs={"data-submit": "delete"}),
                justify="end", margin_top="1rem",
            ),
            custom_attrs={"data-dialog": "delete"},
        ),
        open=S.dialog == "delete",
        on_open_change=S.dialog_open_changed,
    )


@template("Flows", "Flows")
def page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.input(placeholder="Search flows by path or summary", value=S.query, on_change=S.set_query,
                     width="24rem", custom_attrs={"data-field": "flow-search"}),
            rx.spacer(),
            rx.button("New flow", on_click=S.open_dialog("new", ""), custom_attrs={"data-action": "new-flow"}),
            rx.button("Import", variant="soft", on_click=S.open_dialog("import", ""),
                      custom_attrs={"data-action": "import-flow"}),
            width="100%",
            align="center",
        ),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(name)
                                           for name in ("Path", "Summary", "Steps", "Version", "Edited", "")])),
            rx.table.body(rx.foreach(S.visible, _row)),
            width="100%",
            custom_attrs={"data-table": "flows"},
        ),
        rx.cond(S.visible.length() == 0, rx.text("No flow matches.", color_scheme="gray")),
        _new_dialog(),
        _import_dialog(),
        _duplicate_dialog(),
        _delete_dialog(),
        width="100%",
        spacing="3",
    )
