"""The editor's canvas view: each flow opens fitted and readable, the view follows steps
as they come unless the user zoomed, and a long flow gets a minimap."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.app.apikit import W, flow_body
from tests.app.test_editor_browser import drag_node_between, drop_between, node

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


def test_every_kind_of_step_shows_a_drawn_icon(page, api):
    path = f"u/tests/icons_{uuid.uuid4().hex[:8]}"
    same = [{"id": "inner", "value": {"type": "identity"}}]
    modules = [
        {"id": "one", "value": {"type": "branchone", "default": same[:0],
                                "branches": [{"expr": "true", "modules": []}]}},
        {"id": "all", "value": {"type": "branchall", "branches": [{"modules": []}]}},
        {"id": "each", "value": {"type": "forloopflow", "iterator": {"type": "javascript", "expr": "[1]"},
                                 "modules": same}},
        {"id": "code", "value": {"type": "rawscript", "language": "python3", "content": "def main():\n    return 1\n",
                                 "input_transforms": {}}},
    ]
    assert api.post(f"{W}/flows/create", json=flow_body(path, modules)).status_code == 201
    page.goto(f"/flows/edit/{path}")
    for step, kind in (("one", "branchone"), ("all", "branchall"), ("each", "forloopflow"), ("code", "rawscript"),
                       ("inner", "identity")):
        icon = node(page, step).locator(f"[data-kind-icon={kind}] svg")
        expect(icon).to_be_visible()
        box = icon.bounding_box()
        drawn = 16 * _zoom(page) - 0.5  # 16 px at the canvas's zoom
        assert box["width"] >= drawn and box["height"] >= drawn, (step, box)


def test_the_code_completion_list_is_not_cut_by_the_step_panel(page, api):
    path = f"u/tests/complete_{uuid.uuid4().hex[:8]}"
    step = {"id": "code", "value": {"type": "rawscript", "language": "python3", "input_transforms": {},
                                    "content": "def main():\n    return 1\n"}}
    assert api.post(f"{W}/flows/create", json=flow_body(path, [step])).status_code == 201
    page.goto(f"/flows/edit/{path}")
    node(page, "code").click()
    page.locator("[data-code-editor] .cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n    pri")
    page.keyboard.press("Control+Space")
    popup = page.locator(".cm-tooltip-autocomplete")
    expect(popup).to_be_visible()
    expect(popup).to_contain_text("print")
    # It hangs from the page's body, so no scrolling box of the editor's panel clips it.
    assert popup.evaluate("el => el.parentElement === document.body || el.closest('[data-code-editor]') === null")
    box, window = popup.bounding_box(), page.viewport_size
    assert box["x"] >= 0 and box["x"] + box["width"] <= window["width"], box


def test_moving_a_step_into_the_loop_that_iterates_its_result_warns(page, api):
    path = f"u/tests/early_{uuid.uuid4().hex[:8]}"
    modules = [{"id": "items", "value": {"type": "identity"}},
               {"id": "each", "value": {"type": "forloopflow",
                                        "iterator": {"type": "javascript", "expr": "results.items"},
                                        "modules": [{"id": "inner", "value": {"type": "identity"}}]}}]
    assert api.post(f"{W}/flows/create", json=flow_body(path, modules)).status_code == 201
    page.goto(f"/flows/edit/{path}")
    expect(node(page, "inner")).to_be_visible()
    drag_node_between(page, "items", "inner", "each:end")
    expect(page.locator("[data-testid=flow-canvas]")).to_have_attribute("data-drop-target", "each:1")
    page.mouse.up()
    warning = page.locator("[data-warning]")
    expect(warning).to_contain_text("step each reads results.items")
    page.locator("[data-action=undo]").click()
    expect(warning).to_have_count(0)


def test_one_history_undoes_and_redoes_code_summary_and_options_and_keys_work_on_the_canvas(page, api):
    from tests.app.test_editor_browser import set_code

    path = f"u/tests/history_{uuid.uuid4().hex[:8]}"
    step = {"id": "code", "value": {"type": "rawscript", "language": "python3", "input_transforms": {},
                                    "content": "def main():\n    return 1\n"}}
    assert api.post(f"{W}/flows/create", json=flow_body(path, [step])).status_code == 201
    page.goto(f"/flows/edit/{path}")
    node(page, "code").click()
    set_code(page, "def main(first: int = 1):\n    return first\n", "first")
    summary = page.locator("[data-field=step-summary]")
    summary.fill("adds things")
    expect(node(page, "code")).to_contain_text("adds things")

    page.locator("[data-action=undo]").click()  # the summary goes
    expect(node(page, "code")).not_to_contain_text("adds things")
    expect(summary).to_have_value("")
    page.locator("[data-action=undo]").click()  # then the code
    expect(page.locator("[data-code-editor] .cm-content")).to_contain_text("return 1")
    expect(page.locator("[data-input-row=first]")).to_have_count(0)

    page.locator("[data-testid=flow-canvas]").click(position={"x": 5, "y": 5})  # the canvas has the keys
    page.keyboard.press("Control+Shift+Z")  # the code comes back
    node(page, "code").click()
    expect(page.locator("[data-code-editor] .cm-content")).to_contain_text("return first")
    page.locator("[data-testid=flow-canvas]").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+Shift+Z")  # and the summary
    expect(node(page, "code")).to_contain_text("adds things")
    page.keyboard.press("Control+Z")
    expect(node(page, "code")).not_to_contain_text("adds things")
    expect(page.locator("[data-action=redo]")).to_be_enabled()
