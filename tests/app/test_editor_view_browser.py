"""The editor's canvas view: each flow opens fitted and readable, the view follows steps
as they come unless the user zoomed, and a long flow gets a minimap."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.app.apikit import W, flow_body
from tests.app.test_editor_browser import drop_between, node

ZOOM = "el => new DOMMatrix(getComputedStyle(el).transform).a"


def _flow(api, steps: int) -> str:
    path = f"u/tests/view_{uuid.uuid4().hex[:8]}"
    modules = [{"id": f"s{n}", "value": {"type": "identity"}} for n in range(steps)]
    assert api.post(f"{W}/flows/create", json=flow_body(path, modules)).status_code == 201
    return path


def _zoom(page) -> float:
    return page.locator(".react-flow__viewport").evaluate(ZOOM)


def _inside(page, node_id: str) -> bool:
    canvas = page.locator("[data-testid=flow-canvas]").bounding_box()
    box = node(page, node_id).bounding_box()
    return (box is not None and canvas["x"] <= box["x"] and box["x"] + box["width"] <= canvas["x"] + canvas["width"]
            and canvas["y"] <= box["y"] and box["y"] + box["height"] <= canvas["y"] + canvas["height"])


def _wait_settled(page, what) -> None:
    page.wait_for_function(f"() => document.querySelector('[data-testid=flow-canvas]')"
                           f".getAttribute('data-fit-key') === '{what}'")
    page.wait_for_timeout(300)  # the view is set in the frame after the nodes arrive


def test_a_long_flow_opens_readable_with_a_minimap_and_the_next_flow_opens_fitted(page, api):
    long, short = _flow(api, 30), _flow(api, 2)
    page.goto(f"/flows/edit/{long}")
    expect(node(page, "s29")).to_have_count(1)
    _wait_settled(page, long)
    assert _zoom(page) >= 0.65  # 30 steps fit only far below a readable size: the top shows instead
    assert _inside(page, "s0")
    expect(page.locator(".react-flow__minimap")).to_be_visible()
    page.locator("[data-testid=flow-canvas]").hover()
    page.mouse.wheel(0, 600)  # the user zooms out on this flow

    page.locator("[data-nav=flows]").click()  # to the other flow within the app: the canvas stays mounted
    page.locator(f'a[href$="/flows/edit/{short}"]').click()
    expect(node(page, "s1")).to_be_visible()
    _wait_settled(page, short)
    assert abs(_zoom(page) - 1.0) < 0.01  # fitted anew, not the long flow's zoom
    assert _inside(page, "s0") and _inside(page, "s1") and _inside(page, "@result")
    expect(page.locator(".react-flow__minimap")).to_have_count(0)


def test_the_view_follows_new_steps_until_the_user_zooms(page, api):
    path = _flow(api, 3)
    page.goto(f"/flows/edit/{path}")
    expect(node(page, "s2")).to_be_visible()
    _wait_settled(page, path)
    first = _zoom(page)
    for _ in range(3):  # each new step lengthens the graph; the view keeps all of it in sight
        drop_between(page, "identity", "s1", "s2")
        page.wait_for_timeout(400)
    expect(node(page, "c")).to_have_count(1)
    assert _inside(page, "@input") and _inside(page, "@result")
    assert _zoom(page) < first

    node(page, "s1").hover()
    page.mouse.wheel(0, -150)  # zoom in around s1: from now on the view is the user's
    page.wait_for_timeout(400)
    zoomed = _zoom(page)
    drop_between(page, "identity", "s0", "s1")
    expect(node(page, "d")).to_have_count(1)
    page.wait_for_timeout(400)
    assert abs(_zoom(page) - zoomed) < 0.01
