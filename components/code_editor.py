"""A code editor: a thin typed wrapper of `assets/code_editor.jsx` (CodeMirror 6 through
`@uiw/react-codemirror`, loaded lazily with its language modes).

Bind `value` to a var that changes only when Python loads a document, and `on_change` to
a handler that stores the text elsewhere: binding both to one var loses keystrokes while
round trips are in flight. Change `key` to reload identical text.
"""

from __future__ import annotations

import reflex as rx

CODEMIRROR_PACKAGES = [
    "@uiw/react-codemirror@4.25.12",
    "@codemirror/lang-python@6.2.1",
    "@codemirror/lang-javascript@6.2.5",
    "@codemirror/legacy-modes@6.5.5",
    "@codemirror/language@6.13.1",
    "@codemirror/view@6.43.15",  # the one @uiw/react-codemirror runs on: its tooltips' parent
]


class CodeEditor(rx.Component):
    """CodeMirror for one Millrace script language (python3, bash or bun)."""

    library = rx.asset("code_editor.jsx").importable_path
    lib_dependencies: list[str] = CODEMIRROR_PACKAGES
    tag = "CodeEditor"
    is_default = True

    value: rx.Var[str]
    language: rx.Var[str]
    height: rx.Var[str]

    on_change: rx.EventHandler[rx.event.passthrough_event_spec(str)]


code_editor = CodeEditor.create
