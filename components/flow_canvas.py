"""The flow canvas: a thin typed wrapper of `assets/flow_canvas.jsx` (React Flow inside).

Node state lives in the browser; Python sends a laid-out graph (see `app.views.flow_graph`) with
a `version` that changes on every edit, and hears one event per finished gesture.
`flow_graph_view` is the same canvas read-only, as a run's page shows it.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

XYFLOW = "@xyflow/react@12.12.1"
LUCIDE = "lucide-react@1.26.0"  # the icons Reflex's own `rx.icon` draws with, same version


class FlowCanvas(rx.Component):
    """React Flow with browser-side node state, palette drops and drag-to-move."""

    library = rx.asset("flow_canvas.jsx").importable_path
    lib_dependencies: list[str] = [XYFLOW, LUCIDE]
    tag = "FlowCanvas"
    is_default = True

    nodes: rx.Var[list[dict[str, Any]]]
    edges: rx.Var[list[dict[str, Any]]]
    slots: rx.Var[list[dict[str, Any]]]
    version: rx.Var[int]
    statuses: rx.Var[dict[str, str]]
    """Step id -> preview status (running, success, failure, ...): the node's colour."""
    durations: rx.Var[dict[str, str]]
    selected: rx.Var[str]
    read_only: rx.Var[bool]
    """Only show the graph and its statuses: no dragging, dropping, selecting or deleting."""
    fit_key: rx.Var[str]
    """What the canvas shows (a flow's path, a run's id): the view fits the graph anew when
    it changes, as when steps come or go unless the user zoomed or panned."""

    on_drop_item: rx.EventHandler[rx.event.passthrough_event_spec(dict[str, Any])]
    """A palette item dropped: {kind, container, index, x, y}."""
    on_move_step: rx.EventHandler[rx.event.passthrough_event_spec(dict[str, Any])]
    """A step dragged to another slot: {step_id, container, index}."""
    on_select: rx.EventHandler[rx.event.passthrough_event_spec(str)]
    on_delete_step: rx.EventHandler[rx.event.passthrough_event_spec(str)]
    on_undo: rx.EventHandler[rx.event.no_args_event_spec]
    """Ctrl+Z (Cmd+Z) on the canvas."""
    on_redo: rx.EventHandler[rx.event.no_args_event_spec]
    """Ctrl+Shift+Z or Ctrl+Y (Cmd+Shift+Z) on the canvas."""

    def add_imports(self) -> dict[str, Any]:
        return {"": "@xyflow/react/dist/style.css"}


flow_canvas = FlowCanvas.create


def flow_graph_view(nodes: rx.Var, edges: rx.Var, version: rx.Var, statuses: rx.Var,
                    durations: rx.Var, fit_key: rx.Var, selected: rx.Var | str = "",
                    on_select: Any = None) -> rx.Component:
    """The canvas in read-only mode: a flow's graph with each step coloured by its status;
    with `on_select`, clicking a step's node sends its id (`selected` is highlighted)."""
    events = {} if on_select is None else {"on_select": on_select}
    return FlowCanvas.create(nodes=nodes, edges=edges, slots=[], version=version, statuses=statuses,
                             durations=durations, selected=selected, read_only=True, fit_key=fit_key, **events)
