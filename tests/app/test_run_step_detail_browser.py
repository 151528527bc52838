"""The run page opens a step, from its node on the graph or its row: the arguments it was
given, its result (a part at a time when large), its logs, timing and attempts."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.app.apikit import W, ensure_flow, flow_body, py_step, wait_status

DETAILED = flow_body("f/tests/step_detail", [
    py_step("a", "def main(x: int):\n    print('a saw', x)\n    return {'twice': x * 2}\n", x="flow_input.x"),
    {"id": "l", "value": {"type": "forloopflow", "iterator": {"type": "javascript", "expr": "[1, 2]"},
                          "modules": [py_step("s", "def main(n: int):\n    return n * 10\n", n="flow_input.iter.value")]}},
    py_step("big", "def main():\n    return {f'key_{i:04d}': 'v' * 40 for i in range(1500)}\n"),
], {"x": {"type": "integer"}})


def test_a_node_or_a_row_opens_the_step_with_its_args_result_logs_and_timing(page, api):
    run_id = api.post(f"{W}/jobs/run/f/{ensure_flow(api, DETAILED)}", json={"x": 3}).text
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
    page.goto(f"/runs/{run_id}")
    detail = page.locator("[data-block=step-detail]")
    expect(detail).to_have_count(0)

    page.locator('[data-block=run-graph] .react-flow__node[data-id="a"]').click()
    expect(detail.locator("[data-detail=args]")).to_contain_text('"x": 3')
    expect(detail.locator("[data-detail=result]")).to_contain_text('"twice": 6')
    expect(detail.locator("[data-detail=logs]")).to_contain_text("a saw 3")
    expect(detail.locator("[data-detail=timing]")).to_contain_text("attempts 1")
    expect(detail.locator('[data-status="success"]')).to_be_visible()

    page.locator('[data-block=run-graph] .react-flow__node[data-id="s"]').click()  # inside the loop
    expect(detail).to_contain_text("l/0/s")
    expect(detail.locator("[data-detail=args]")).to_contain_text('"n": 1')
    expect(detail.locator("[data-detail=result]")).to_have_text("10")

    page.locator('[data-open-step="l/1/s"]').click()  # a row: the second iteration
    expect(detail.locator("[data-detail=args]")).to_contain_text('"n": 2')
    page.locator('[data-open-step="big"]').click()
    expect(detail.locator("[data-result-part]")).to_have_text("part 1 of 5")
    expect(detail.locator("[data-detail=result]")).to_contain_text('"key_0000"')
    detail.locator("[data-result-page=next]").click()
    expect(detail.locator("[data-result-part]")).to_have_text("part 2 of 5")
    expect(detail.locator("[data-detail=result]")).not_to_contain_text('"key_0000"')
    page.locator('[data-open-step="big"]').click()  # the same row again closes it
    expect(detail).to_have_count(0)
