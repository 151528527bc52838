"""An OpenFlow document as a canvas: positioned nodes, edges and drop slots.

The layout is a top-down tree: the flow input on top, one node per step, loops and
branches drawn as a header node, their bodies (branches side by side) and a labelled end
node ("end of loop: Iterate contacts"), then the flow result. Between any two consecutive
nodes of a step list sits a *slot*: the place where a dropped palette item or a dragged
step lands (see `app.views.flow_ops` for the container keys slots use).

Data edges (dashed) go from a step to every step whose expressions read its result
(`results.<id>`), found with the engine's own `Evaluator.referenced_results`.

Everything here is pure: plain dicts in, plain dicts out (what React Flow takes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterator

from app.views.flow_ops import BRANCH_TYPES, LOOP_TYPES, iter_containers, iter_steps

NODE_W = 240
STEP_H = 52
MARK_H = 28
IO_H = 36
GAP = 44
"""Vertical room between two nodes (an edge and its slot)."""
COLUMN_GAP = 32
FRAME_PAD = 16

INPUT_ID = "@input"
RESULT_ID = "@result"

_KIND_LABELS = {
    "forloopflow": "For loop",
    "whileloopflow": "While loop",
    "branchone": "Branch to one",
    "branchall": "Branch to all",
    "identity": "Identity",
    "flow": "Flow",
}
_LANGUAGE_LABELS = {"python3": "Python", "bash": "Bash", "bun": "TypeScript", "deno": "TypeScript",
                    "nativets": "TypeScript", "postgresql": "PostgreSQL", "duckdb": "DuckDB"}


@dataclass
class Graph:
    """What the canvas draws: React Flow nodes and edges, plus the drop slots."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    slots: list[dict[str, Any]] = field(default_factory=list)

    def node(self, node_id: str) -> dict[str, Any]:
        """The node with this id (KeyError when absent)."""
        for node in self.nodes:
            if node["id"] == node_id:
                return node
        raise KeyError(node_id)


def step_label(module: dict[str, Any]) -> str:
    """What a step's node says: its summary, else what kind of step it is."""
    if module.get("summary"):
        return str(module["summary"])
    value = module.get("value") or {}
    kind = value.get("type", "")
    if kind == "rawscript":
        return f"{_LANGUAGE_LABELS.get(value.get('language', ''), value.get('language', ''))} script"
    if kind == "script":
        return str(value.get("path") or "Script (no path yet)")
    return _KIND_LABELS.get(kind, kind)


def build_graph(document: dict[str, Any]) -> Graph:
    """Lay out a whole flow document (see the module docstring)."""
    graph = Graph()
    modules = (document.get("value") or {}).get("modules") or []
    width = max(NODE_W, _list_width(modules))
    cx = width / 2
    graph.nodes.append(_node(INPUT_ID, "io", cx, 0, IO_H, {"label": "Flow input"}, draggable=False))
    end_y, pending = _place_list(graph, modules, "", [], cx, IO_H, INPUT_ID)
    _close(graph, pending, RESULT_ID)
    graph.nodes.append(_node(RESULT_ID, "io", cx, end_y + GAP, IO_H, {"label": "Result"}, draggable=False))
    _place_specials(graph, document.get("value") or {}, cx, end_y + GAP + IO_H)
    graph.edges.extend(data_edges(modules))
    return graph


def _place_specials(graph: Graph, value: dict[str, Any], cx: float, y: float) -> None:
    """The error handler and preprocessor, below the result and apart from the run order."""
    for container, key, title in (("@preprocessor", "preprocessor_module", "Preprocessor"),
                                  ("@failure", "failure_module", "Error handler")):
        module = value.get(key)
        if not module:
            continue
        y += GAP
        data = {"step_id": module.get("id", ""), "label": f"{title}: {step_label(module)}",
                "kind": (module.get("value") or {}).get("type", ""), "container": container, "index": 0,
                "is_container": False, "language": (module.get("value") or {}).get("language", "")}
        graph.nodes.append(_node(module.get("id", ""), "step", cx, y, STEP_H, data, draggable=False))
        y += STEP_H


# ---- measuring -------------------------------------------------------------------------

def _list_width(modules: list[dict[str, Any]]) -> float:
    return max([NODE_W] + [_module_width(module) for module in modules])


def _module_width(module: dict[str, Any]) -> float:
    kind = (module.get("value") or {}).get("type")
    if kind in LOOP_TYPES:
        (_, children), = iter_containers(module)
        return _list_width(children) + 2 * FRAME_PAD
    if kind in BRANCH_TYPES:
        columns = [_list_width(children) for _, children in iter_containers(module)]
        return max(NODE_W, sum(columns) + COLUMN_GAP * (len(columns) - 1)) + 2 * FRAME_PAD
    return NODE_W


# ---- placing ---------------------------------------------------------------------------

Pending = tuple[str, dict[str, Any]]
"""(id of the last node placed, slot data for the edge that leaves it)."""


def _place_list(graph: Graph, modules: list[dict[str, Any]], container: str, ancestors: list[str],
                cx: float, y: float, previous: str) -> tuple[float, Pending]:
    """Place a step list below `y`; returns the bottom and the edge still to draw."""
    for index, module in enumerate(modules):
        slot = _slot(graph, container, index, ancestors, cx, y + GAP / 2)
        y += GAP
        _connect(graph, previous, module["id"], slot)
        y, previous = _place_module(graph, module, container, index, ancestors, cx, y)
    slot = _slot(graph, container, len(modules), ancestors, cx, y + GAP / 2)
    return y, (previous, slot)


def _place_module(graph: Graph, module: dict[str, Any], container: str, index: int,
                  ancestors: list[str], cx: float, y: float) -> tuple[float, str]:
    """Place one step (and its contents); returns its bottom and its exit node id."""
    value = module.get("value") or {}
    kind = value.get("type", "")
    step_id = module["id"]
    data = {"step_id": step_id, "label": step_label(module), "kind": kind,
            "language": value.get("language", ""), "container": container, "index": index,
            "is_container": kind in LOOP_TYPES | BRANCH_TYPES}
    header = _node(step_id, "step", cx, y, STEP_H, data)
    if kind not in LOOP_TYPES | BRANCH_TYPES:
        graph.nodes.append(header)
        return y + STEP_H, step_id
    frame = _node(f"{step_id}:frame", "frame", cx, y, 0, {}, draggable=False, selectable=False)
    frame["width"], frame["zIndex"] = _module_width(module), -1
    frame["position"]["x"] = cx - frame["width"] / 2
    graph.nodes.extend([frame, header])
    inner = ancestors + [step_id]
    if kind in LOOP_TYPES:
        (key, children), = iter_containers(module)
        bottom, pending = _place_list(graph, children, key, inner, cx, y + STEP_H, step_id)
        ends = [pending]
        end_label = f"end of loop: {step_label(module)}"
    else:
        bottom, ends = _place_branches(graph, module, inner, cx, y + STEP_H)
        end_label = f"end of branches: {step_label(module)}"
    end_id = f"{step_id}:end"
    for pending in ends:
        _close(graph, pending, end_id, bend_low=kind in BRANCH_TYPES)
    end_y = bottom + GAP
    graph.nodes.append(_node(end_id, "end", cx, end_y, MARK_H, {"label": end_label, "step_id": step_id},
                             draggable=False))
    frame["height"] = end_y + MARK_H - y
    return end_y + MARK_H, end_id


def _place_branches(graph: Graph, module: dict[str, Any], ancestors: list[str],
                    cx: float, y: float) -> tuple[float, list[Pending]]:
    """Place branch columns side by side below the header; one label node heads each."""
    step_id = module["id"]
    columns = list(iter_containers(module))
    widths = [_list_width(children) for _, children in columns]
    total = sum(widths) + COLUMN_GAP * (len(columns) - 1)
    left = cx - total / 2
    bottoms, ends = [], []
    summaries = [branch.get("summary") for branch in (module.get("value") or {}).get("branches") or []]
    for number, ((key, children), width) in enumerate(zip(columns, widths)):
        column_cx = left + width / 2
        left += width + COLUMN_GAP
        label_id = f"{step_id}:branch:{key.rsplit('/', 1)[1]}"
        label = _branch_label(number, key, summaries)
        graph.edges.append(_edge(step_id, label_id, None))
        graph.nodes.append(_node(label_id, "label", column_cx, y + GAP, MARK_H,
                                 {"label": label, "step_id": step_id}, draggable=False))
        bottom, pending = _place_list(graph, children, key, ancestors, column_cx, y + GAP + MARK_H, label_id)
        bottoms.append(bottom)
        ends.append(pending)
    if not columns:
        return y, [(step_id, None)]
    return max(bottoms), ends


def _branch_label(number: int, key: str, summaries: list[Any]) -> str:
    if key.endswith("/default"):
        return "Default"
    summary = summaries[number] if number < len(summaries) else None
    return f"Branch {number + 1}" + (f": {summary}" if summary and summary != f"Branch {number + 1}" else "")


def _close(graph: Graph, pending: Pending, target: str, *, bend_low: bool = False) -> None:
    """Draw the edge from the last node placed to `target`. With `bend_low` (a branch
    column joining its end node) the edge turns toward the target just above it: bent
    halfway, a short or empty column's edge would cross a longer neighbour's nodes."""
    previous, slot = pending
    _connect(graph, previous, target, slot)
    if bend_low:
        graph.edges[-1]["pathOptions"] = {"stepPosition": 1}


def _connect(graph: Graph, source: str, target: str, slot: dict[str, Any] | None) -> None:
    graph.edges.append(_edge(source, target, slot))


def _edge(source: str, target: str, slot: dict[str, Any] | None) -> dict[str, Any]:
    edge: dict[str, Any] = {"id": f"e:{source}->{target}", "source": source, "target": target,
                            "sourceHandle": "out", "targetHandle": "in", "type": "smoothstep",
                            "selectable": False, "style": {"stroke": "#8b8fa3", "strokeWidth": 1.5}}
    if slot is not None:
        edge["data"] = {"container": slot["container"], "index": slot["index"]}
    return edge


def _slot(graph: Graph, container: str, index: int, ancestors: list[str], x: float, y: float) -> dict[str, Any]:
    slot = {"container": container, "index": index, "ancestors": list(ancestors), "x": x, "y": y}
    graph.slots.append(slot)
    return slot


def _node(node_id: str, node_type: str, cx: float, y: float, height: float, data: dict[str, Any], *,
          draggable: bool = True, selectable: bool = True) -> dict[str, Any]:
    # Sizes are known here, so React Flow can draw nodes before measuring them.
    return {"id": node_id, "type": node_type, "position": {"x": cx - NODE_W / 2, "y": y},
            "width": NODE_W, "height": height, "data": {**data, "height": height},
            "draggable": draggable, "selectable": selectable}


# ---- drop targets ----------------------------------------------------------------------

def drop_target(slots: list[dict[str, Any]], x: float, y: float,
                moving: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The slot nearest to (x, y), in flow coordinates, where a drop lands.

    With `moving` (a step node's data), slots inside that step and the two slots around
    it (where a move changes nothing) are not candidates. The canvas's JavaScript applies
    the same rule while dragging, to highlight the target.
    """
    best, best_distance = None, math.inf
    for slot in slots:
        if moving is not None and _is_noop_or_inside(slot, moving):
            continue
        distance = math.hypot(slot["x"] - x, slot["y"] - y)
        if distance < best_distance:
            best, best_distance = slot, distance
    return best


def _is_noop_or_inside(slot: dict[str, Any], moving: dict[str, Any]) -> bool:
    if moving["step_id"] in slot["ancestors"]:
        return True
    return slot["container"] == moving["container"] and slot["index"] in (moving["index"], moving["index"] + 1)


# ---- data edges ------------------------------------------------------------------------

def data_edges(modules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dashed edges from each step to the steps whose expressions read its result."""
    known = {module["id"] for _, _, module in iter_steps(modules)}
    edges = []
    for _, _, module in iter_steps(modules):
        for source in sorted(referenced_steps(module) & known - {module["id"]}):
            edges.append({"id": f"d:{source}->{module['id']}", "source": source, "target": module["id"],
                          "sourceHandle": "data-out", "targetHandle": "data-in", "type": "default",
                          "selectable": False, "data": {"kind": "data"},
                          "style": {"stroke": "#a78bfa", "strokeDasharray": "4 3"}})
    return edges


def referenced_steps(module: dict[str, Any]) -> set[str]:
    """Ids of the steps whose results this step's own expressions read."""
    evaluator = _evaluator()
    ids: set[str] = set()
    for expr in step_expressions(module):
        found = evaluator.referenced_results(expr)
        if found:
            ids |= found
    return ids


def step_expressions(module: dict[str, Any]) -> Iterator[str]:
    """Every JavaScript expression of a step itself (not of the steps inside it)."""
    value = module.get("value") or {}
    transforms = dict(value.get("input_transforms") or {})
    for name in ("iterator", "parallelism"):
        if isinstance(value.get(name), dict):
            transforms[name] = value[name]
    for name in ("sleep", "timeout"):
        if isinstance(module.get(name), dict):
            transforms[name] = module[name]
    for transform in transforms.values():
        if isinstance(transform, dict) and transform.get("type") == "javascript" and transform.get("expr"):
            yield str(transform["expr"])
    for branch in value.get("branches") or []:
        if branch.get("expr"):
            yield str(branch["expr"])
    for name in ("skip_if", "stop_after_if", "stop_after_all_iters_if"):
        predicate = module.get(name)
        if isinstance(predicate, dict) and predicate.get("expr"):
            yield str(predicate["expr"])


_EVALUATOR: Any = None


def _evaluator() -> Any:
    global _EVALUATOR
    if _EVALUATOR is None:
        from engine import Evaluator

        _EVALUATOR = Evaluator()
    return _EVALUATOR
