"""A typical editor session leaves the browser's console clean: opening a flow, adding
steps, opening and closing the step panel, resizing the window and dragging a step raise
no error (in particular no "ResizeObserver loop" error, of which a session used to
collect over a hundred)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.app.test_editor_browser import drag_node_between, drop_between, new_flow, node, open_editor

# Errors the page reports to itself (the window's error event is where the browser puts a
# ResizeObserver loop; Playwright's pageerror sees only uncaught exceptions).
COLLECT = """() => {
  window.__errors = [];
  window.addEventListener('error', (event) => window.__errors.push(String(event.message)), true);
  window.addEventListener('unhandledrejection', (event) => window.__errors.push(String(event.reason)));
}"""


def _session(page, path: str) -> None:
    open_editor(page, path)
    drop_between(page, "identity", "@input", "@result")
    expect(node(page, "a")).to_be_visible()
    drop_between(page, "python", "a", "@result")
    expect(node(page, "b")).to_be_visible()
    for step in ("a", "b", "a"):  # the panel opens, changes step, closes on the pane
        node(page, step).click()
        expect(page.locator("[data-panel=step]")).to_be_visible()
        page.wait_for_timeout(200)
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    expect(page.locator("[data-panel=step]")).to_have_count(0)
    for width, height in ((1000, 700), (1500, 950), (1280, 900)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(250)
    drop_between(page, "forloop", "b", "@result")
    expect(node(page, "c")).to_be_visible()
    drag_node_between(page, "a", "c", "c:end")
    page.mouse.up()
    page.wait_for_timeout(300)
    node(page, "b").click()
    expect(page.locator("[data-panel=step]")).to_be_visible()
    page.set_viewport_size({"width": 1100, "height": 800})
    page.wait_for_timeout(500)


def test_an_editor_session_raises_no_errors(page, api):
    console, thrown = [], []
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: thrown.append(str(error)))
    page.add_init_script(f"({COLLECT})()")
    _session(page, new_flow(api))
    reported = page.evaluate("window.__errors")
    assert (reported, console, thrown) == ([], [], [])
