"""The flow editor's guard of unsaved edits: a thin typed wrapper of
`assets/unsaved_guard.jsx` (ask before leaving; keep a draft per flow in the browser).

`draft` is the document (JSON) as edited, stored while `dirty`; changing `cleared`
forgets the stored draft (after a save or a discard); `on_draft` receives the stored
draft of `flow_path` (JSON of `{document, version, saved_at}`) when shown and each time
`opened` changes (the handler offers it only when it differs from the flow as loaded).
"""

from __future__ import annotations

import reflex as rx


class UnsavedGuard(rx.Component):
    """Renders nothing; guards the page while `dirty`."""

    library = rx.asset("unsaved_guard.jsx").importable_path
    tag = "UnsavedGuard"
    is_default = True

    dirty: rx.Var[bool]
    draft: rx.Var[str]
    flow_path: rx.Var[str]
    version: rx.Var[int]
    opened: rx.Var[int]
    cleared: rx.Var[int]
    message: rx.Var[str]

    on_draft: rx.EventHandler[rx.event.passthrough_event_spec(str)]


unsaved_guard = UnsavedGuard.create
