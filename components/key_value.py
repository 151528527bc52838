"""Key/value rows for a free-form object: a thin typed wrapper of
`assets/key_value_editor.jsx`.

The rows' text is a JSON list of `[key, value text]` pairs (see `components.form_objects`).
In a submitted form, give `name` and `default_value`: the rows travel in a hidden input of
that name. Where the page's state keeps the text, give `value` and `on_change`.
"""

from __future__ import annotations

import reflex as rx


class KeyValueEditor(rx.Component):
    """Rows of a key and a value, a button to add one and one to remove each."""

    library = rx.asset("key_value_editor.jsx").importable_path
    tag = "KeyValueEditor"
    is_default = True

    name: rx.Var[str]
    default_value: rx.Var[str]
    value: rx.Var[str]

    on_change: rx.EventHandler[rx.event.passthrough_event_spec(str)]


key_value_editor = KeyValueEditor.create
