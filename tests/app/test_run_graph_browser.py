"""A run's page draws the flow's graph read-only, each step coloured by its status in the run."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.app.apikit import APPROVAL, W, ensure_flow, flow_body, py_step, wait_status

FAILS_AT_LOAD = flow_body("f/tests/graph_fails_at_load", [
    py_step("extract", "def main():\n    return [1, 2]\n"),
    {"id": "each", "value": {"type": "forloopflow", "iterator": {"type": "javascript", "expr": "results.extract"},
                             "modules": [py_step("check", "def main(x: int):\n    return x\n",
                                                 x="flow_input.iter.value")]}},
    py_step("load", "def main():\n    raise RuntimeError('warehouse refused the batch')\n"),
    py_step("notify", "def main():\n    return 'never'\n"),
])
RED_BORDER = "rgb(220, 38, 38)"
GREEN_BORDER = "rgb(22, 163, 74)"


def _node(page, step_id: str):
    return page.locator(f'[data-block=run-graph] [data-step="{step_id}"]')


def test_failing_step_is_drawn_in_the_failure_colour_and_the_others_in_success(page, api):
    run_id = api.post(f"{W}/jobs/run/f/{ensure_flow(api, FAILS_AT_LOAD)}", json={}).text
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "failure"

    page.goto(f"/runs/{run_id}")
    canvas = page.locator("[data-block=run-graph] [data-testid=flow-canvas]")
    expect(canvas).to_have_attribute("data-read-only", "true")
    expect(_node(page, "load")).to_have_attribute("data-status", "failure")
    for step_id in ("extract", "each", "check"):  # `check` ran twice inside the loop
        expect(_node(page, step_id)).to_have_attribute("data-status", "success")
    expect(_node(page, "notify")).to_have_attribute("data-status", "")  # never reached
    expect(_node(page, "load")).to_have_css("border-top-color", RED_BORDER)
    expect(_node(page, "extract")).to_have_css("border-top-color", GREEN_BORDER)


def test_the_graph_is_read_only(page, api):
    run_id = api.post(f"{W}/jobs/run/f/{ensure_flow(api, FAILS_AT_LOAD)}", json={}).text
    wait_status(api, run_id, {"success", "failure"})
    page.goto(f"/runs/{run_id}")
    node = _node(page, "extract")
    expect(node).to_have_attribute("data-status", "success")
    neighbour = _node(page, "each")
    before, neighbour_before = node.bounding_box(), neighbour.bounding_box()
    x, y = before["x"] + before["width"] / 2, before["y"] + before["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 200, y + 150, steps=8)
    page.mouse.up()
    page.mouse.click(x, y)
    # A drag on a read-only graph pans it at most: the node keeps its place next to its
    # neighbour, and nothing is selected.
    after, neighbour_after = node.bounding_box(), neighbour.bounding_box()
    assert round(after["x"] - neighbour_after["x"]) == round(before["x"] - neighbour_before["x"])
    assert round(after["y"] - neighbour_after["y"]) == round(before["y"] - neighbour_before["y"])
    expect(page.locator("[data-block=run-graph] .react-flow__node.selected")).to_have_count(0)


def test_a_step_waiting_for_approval_is_suspended_then_turns_success_live(page, api):
    run_id = api.post(f"{W}/jobs/run/f/{ensure_flow(api, APPROVAL)}", json={}).text
    assert wait_status(api, run_id, {"suspended"})["status"] == "suspended"
    page.goto(f"/runs/{run_id}")
    expect(_node(page, "ask")).to_have_attribute("data-status", "suspended")
    expect(_node(page, "after")).to_have_attribute("data-status", "")

    links = api.get(f"{W}/jobs/resume_urls/{run_id}/graph-approval").json()
    assert api.post(links["resume"], json={"ok": True}).status_code == 200
    # The page follows the run: no reload.
    expect(_node(page, "ask")).to_have_attribute("data-status", "success", timeout=15_000)
    expect(_node(page, "after")).to_have_attribute("data-status", "success", timeout=15_000)
