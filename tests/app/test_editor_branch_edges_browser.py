"""The canvas's run-order edges go around nodes, never through them: a short or empty
branch beside a long one joins the branches' end below every column, as drawn in Chromium."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.app.apikit import W, flow_body
from tests.app.test_editor_browser import node

# Every node's box and every run-order edge's path, in the flow's own coordinates (the
# viewport's transform applies to both alike).
GEOMETRY = """() => {
  const nodes = [...document.querySelectorAll('.react-flow__node')].map((el) => {
    const m = new DOMMatrix(getComputedStyle(el).transform);
    return { id: el.getAttribute('data-id'), type: [...el.classList].find((c) => c.startsWith('react-flow__node-')),
             x: m.e, y: m.f, width: el.offsetWidth, height: el.offsetHeight };
  });
  const edges = [...document.querySelectorAll('.react-flow__edge')].map((el) => ({
    id: el.getAttribute('data-id'), d: el.querySelector('path.react-flow__edge-path').getAttribute('d') }));
  return { nodes, edges };
}"""


def _ident(step_id: str) -> dict:
    return {"id": step_id, "value": {"type": "identity"}}


def _flow(api) -> str:
    path = f"u/tests/edges_{uuid.uuid4().hex[:8]}"
    modules = [
        {"id": "fan", "value": {"type": "branchall", "branches": [
            {"summary": "empty", "modules": []},
            {"summary": "long", "modules": [_ident("l1"), _ident("l2"), _ident("l3")]},
            {"summary": "short", "modules": [_ident("s1")]}]}},
        {"id": "pick", "value": {"type": "branchone", "default": [], "branches": [
            {"expr": "true", "modules": [_ident("p1"), _ident("p2")]},
            {"expr": "false", "modules": [_ident("q1")]}]}},
    ]
    assert api.post(f"{W}/flows/create", json=flow_body(path, modules)).status_code == 201
    return path


def _points(d: str) -> list[tuple[float, float]]:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", d)]
    return list(zip(numbers[0::2], numbers[1::2]))


def _crossings(geometry: dict) -> list[str]:
    """Each (edge, node) pair where the edge's polyline runs inside a node it does not join."""
    boxes = {n["id"]: n for n in geometry["nodes"] if n["type"] != "react-flow__node-frame"}
    found = []
    for edge in geometry["edges"]:
        source, target = edge["id"][2:].split("->")
        points = _points(edge["d"])
        for (x1, y1), (x2, y2) in zip(points, points[1:]):
            steps = max(1, int(max(abs(x2 - x1), abs(y2 - y1)) / 2))
            for i in range(steps + 1):
                x, y = x1 + (x2 - x1) * i / steps, y1 + (y2 - y1) * i / steps
                for box in boxes.values():
                    if box["id"] in (source, target):
                        continue
                    if box["x"] + 1 < x < box["x"] + box["width"] - 1 and box["y"] + 1 < y < box["y"] + box["height"] - 1:
                        found.append(f"{edge['id']} crosses {box['id']} at ({x:.0f}, {y:.0f})")
    return sorted(set(f.split(" at ")[0] for f in found))


def test_an_empty_or_short_branch_joins_the_end_below_every_column(page, api):
    path = _flow(api)
    page.goto(f"/flows/edit/{path}")
    expect(node(page, "q1")).to_be_visible()
    page.wait_for_timeout(300)
    geometry = page.evaluate(GEOMETRY)
    edges = {edge["id"] for edge in geometry["edges"]}
    assert {"e:fan:branch:0->fan:end", "e:pick:branch:default->pick:end", "e:s1->fan:end"} <= edges
    assert _crossings(geometry) == []
