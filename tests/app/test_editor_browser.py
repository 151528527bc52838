"""The flow editor in a real Chromium against the running app: drag-and-drop building,
the step panel, and previews that stream each step's result as it finishes."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.sync_api import expect

from tests.app.apikit import W, flow_body

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

STEP_A = 'import time\n\ndef main(who: str = "world"):\n    time.sleep(0.4)\n    return {"greeting": f"hello {who}"}\n'
STEP_B = 'import time\n\ndef main(greeting: str):\n    time.sleep(0.4)\n    return {"shout": greeting.upper()}\n'
STEP_C = 'import time\n\ndef main(b: dict):\n    time.sleep(0.4)\n    return {"length": len(b["shout"])}\n'

# Records, per step key, when its result first appeared in the page (performance.now()).
WATCH_RESULTS = """() => {
  window.__arrivals = {};
  const seen = (el) => {
    const key = el.getAttribute('data-preview-result');
    if (key && !(key in window.__arrivals) && el.textContent.trim()) window.__arrivals[key] = performance.now();
  };
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType !== 1) continue;
        if (node.matches('[data-preview-result]')) seen(node);
        node.querySelectorAll('[data-preview-result]').forEach(seen);
      }
      if (record.type === 'characterData' || record.type === 'childList') {
        const el = record.target.nodeType === 1 ? record.target : record.target.parentElement;
        const host = el && el.closest && el.closest('[data-preview-result]');
        if (host) seen(host);
      }
    }
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
}"""


def node(page, node_id: str):
    return page.locator(f'.react-flow__node[data-id="{node_id}"]')


def new_flow(api, properties: dict | None = None) -> str:
    path = f"u/tests/editor_{uuid.uuid4().hex[:8]}"
    response = api.post(f"{W}/flows/create", json=flow_body(path, [], properties))
    assert response.status_code == 201, response.text
    return path


def open_editor(page, path: str) -> None:
    page.goto(f"/flows/edit/{path}")
    expect(node(page, "@input")).to_be_visible()


def drop_between(page, kind: str, upper: str, lower: str) -> None:
    """Drag a palette item to the middle of the gap between two nodes."""
    top = node(page, upper).bounding_box()
    bottom = node(page, lower).bounding_box()
    canvas = page.locator("[data-testid=flow-canvas]")
    box = canvas.bounding_box()
    x = top["x"] + top["width"] / 2 - box["x"]
    y = (top["y"] + top["height"] + bottom["y"]) / 2 - box["y"]
    page.locator(f"[data-palette-kind={kind}]").drag_to(canvas, target_position={"x": x, "y": y})


def set_code(page, code: str, first_input: str) -> None:
    page.locator("[data-code-editor] .cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(code)
    expect(page.locator(f"[data-input-row={first_input}]")).to_be_visible()


def pick(page, name: str, expr: str) -> None:
    page.locator(f"[data-picker={name}]").click()
    page.locator(f'[data-pick="{expr}"]').click()
    expect(page.locator(f"input[data-input={name}]")).to_have_value(expr)


def test_stored_flow_shows_nested_steps_and_effective_defaults(page):
    page.goto("/flows/edit/f/examples/crm_sync")
    for step in ("fetch", "fetch_crm", "detect", "resolve", "apply_fix", "audit"):
        expect(node(page, step)).to_be_visible()
    expect(node(page, "resolve:end")).to_contain_text("end of loop:")
    node(page, "fetch").click()
    switch = page.locator("[data-setting=parallel]")
    expect(switch).to_have_attribute("data-effective", "true")


def test_build_by_dragging_wire_with_picker_and_results_stream_in(page, api):
    path = new_flow(api, {"name": {"type": "string"}})
    open_editor(page, path)

    drop_between(page, "python", "@input", "@result")
    expect(node(page, "a")).to_be_visible()
    set_code(page, STEP_A, "who")
    drop_between(page, "python", "a", "@result")
    expect(node(page, "b")).to_be_visible()
    set_code(page, STEP_B, "greeting")
    drop_between(page, "python", "b", "@result")
    expect(node(page, "c")).to_be_visible()
    set_code(page, STEP_C, "b")
    page.screenshot(path=str(ARTIFACTS / "editor-built.png"))

    page.locator("[data-arg=name]").fill("Ada")
    page.locator("[data-arg=name]").press("Tab")
    node(page, "a").click()
    pick(page, "who", "flow_input.name")
    page.locator("[data-action=test-step]").click()
    expect(page.locator('[data-preview-result="a"]')).to_contain_text("hello Ada")
    node(page, "b").click()
    pick(page, "greeting", "results.a.greeting")
    node(page, "c").click()
    pick(page, "b", "results.b")

    page.evaluate(WATCH_RESULTS)
    page.locator("[data-action=test-flow]").click()
    expect(page.locator('[data-preview-result="c"]')).to_contain_text('"length": 9', timeout=20_000)
    expect(page.locator('[data-preview-result="b"]')).to_contain_text("HELLO ADA")
    for step in ("a", "b", "c"):
        expect(node(page, step).locator("[data-status]")).to_have_attribute("data-status", "success")
    page.screenshot(path=str(ARTIFACTS / "editor-preview.png"))

    arrivals = page.evaluate("window.__arrivals")
    assert set(arrivals) == {"a", "b", "c"}, arrivals
    gaps = [arrivals["b"] - arrivals["a"], arrivals["c"] - arrivals["b"]]
    # Each step sleeps 0.4 s: results that arrive together at the end would show ~0 ms gaps.
    assert all(gap > 250 for gap in gaps), f"results did not stream one by one: {arrivals}"

    page.locator("[data-action=save]").click()
    expect(page.locator("[data-notice]")).to_contain_text("Saved version 2")
    saved = api.get(f"{W}/flows/get/{path}").json()
    ids = [module["id"] for module in saved["value"]["modules"]]
    assert ids == ["a", "b", "c"]
    assert saved["value"]["modules"][1]["value"]["input_transforms"]["greeting"]["expr"] == "results.a.greeting"


def test_drop_into_loop_delete_and_undo_and_id_validation(page, api):
    path = new_flow(api)
    open_editor(page, path)
    drop_between(page, "forloop", "@input", "@result")
    expect(node(page, "a:end")).to_contain_text("end of loop")
    drop_between(page, "bash", "a", "a:end")
    expect(node(page, "b")).to_be_visible()
    # b sits inside the loop: between the loop's header and its end node.
    assert node(page, "a").bounding_box()["y"] < node(page, "b").bounding_box()["y"] < node(page, "a:end").bounding_box()["y"]

    field = page.locator("input[data-field=step-id]")
    field.fill("1bad")
    expect(page.locator("[data-error=step-id]")).to_contain_text("letters, digits")
    field.fill("a")
    expect(page.locator("[data-error=step-id]")).to_contain_text("already has id")
    field.fill("greet")
    expect(node(page, "greet")).to_be_visible()

    page.locator("[data-action=delete-step]").click()
    expect(node(page, "greet")).to_have_count(0)
    page.locator("[data-action=undo]").click()
    expect(node(page, "greet")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "editor-loop.png"))


def settled_boxes(page, ids, rounds=60, still=3):
    """The nodes' boxes once the canvas stopped moving them for `still` looks in a row (a
    drop re-lays the graph out, and on a busy machine the new layout can come late)."""
    boxes, same = None, 0
    for _ in range(rounds):
        now = [node(page, i).bounding_box() for i in ids]
        same = same + 1 if now == boxes else 0
        if same >= still:
            return now
        boxes = now
        page.wait_for_timeout(150)
    return boxes


def drag_node_between(page, moving_id: str, upper: str, lower: str) -> None:
    """Press on a node and move it to the gap between two others, not letting go."""
    top, bottom, moving = settled_boxes(page, (upper, lower, moving_id))
    page.mouse.move(moving["x"] + moving["width"] / 2, moving["y"] + moving["height"] / 2)
    page.mouse.down()
    gap_x, gap_y = top["x"] + top["width"] / 2, (top["y"] + top["height"] + bottom["y"]) / 2
    page.mouse.move(gap_x, gap_y, steps=8)
    page.mouse.move(gap_x + 2, gap_y, steps=2)  # a last move once the drag surely started


def test_drag_a_step_into_a_loop(page, api):
    path = new_flow(api)
    open_editor(page, path)
    drop_between(page, "forloop", "@input", "@result")
    drop_between(page, "identity", "a", "a:end")
    drop_between(page, "identity", "a:end", "@result")
    expect(node(page, "c")).to_be_visible()
    drag_node_between(page, "c", "b", "a:end")
    expect(page.locator("[data-testid=flow-canvas]")).to_have_attribute("data-drop-target", "a:1")
    expect(page.locator("[data-drop-marker]")).to_be_visible()
    page.mouse.up()
    page.wait_for_function("""() => {
        const y = (id) => document.querySelector(`.react-flow__node[data-id="${id}"]`).getBoundingClientRect().y;
        return y('b') < y('c') && y('c') < y('a:end');
    }""")
    page.locator("[data-action=save]").click()
    expect(page.locator("[data-notice]")).to_contain_text("Saved version 2")
    loop = api.get(f"{W}/flows/get/{path}").json()["value"]["modules"][0]
    assert [module["id"] for module in loop["value"]["modules"]] == ["b", "c"]


def test_big_result_shows_cut_with_size_and_downloads_whole(page, api):
    path = new_flow(api)
    open_editor(page, path)
    drop_between(page, "python", "@input", "@result")
    set_code(page, 'def main(n: int = 150000):\n    return {"blob": "x" * n}\n', "n")
    page.locator("[data-action=test-step]").click()
    expect(page.locator('[data-truncated="a"]')).to_contain_text("150.0 KB")
    with page.expect_download() as download:
        page.locator('[data-download="a"]').click()
    saved = Path(download.value.path()).read_text()
    assert len(saved) > 150_000 and '"blob"' in saved
