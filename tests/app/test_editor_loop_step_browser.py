"""A step inside a loop tested alone: the picker offers `flow_input.iter.*`, and "Test this
step" runs it with the iteration value of the last preview, or one typed."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.app.apikit import W, flow_body, py_step

GREET = "def main(who: str):\n    return f'hello {who}'\n"


def _flow(api) -> str:
    path = f"u/tests/loop_step_{uuid.uuid4().hex[:8]}"
    loop = {"id": "l", "value": {"type": "forloopflow", "modules": [py_step("s", GREET, who="flow_input.iter.value.name")],
                                 "iterator": {"type": "javascript", "expr": "[{name: 'ann'}, {name: 'bob'}]"}}}
    response = api.post(f"{W}/flows/create", json=flow_body(path, [loop]))
    assert response.status_code == 201, response.text
    return path


def test_a_step_in_a_loop_is_tested_with_the_last_iteration_value_or_a_typed_one(page, api):
    path = _flow(api)
    page.goto(f"/flows/edit/{path}")
    step = page.locator('.react-flow__node[data-id="s"]')
    step.click()
    page.locator("[data-picker=who]").click()
    for expr in ("flow_input.iter.value", "flow_input.iter.index"):
        expect(page.locator(f'[data-pick="{expr}"]')).to_be_visible()
    page.keyboard.press("Escape")
    iteration = page.locator("input[data-field=iter-value]")
    expect(iteration).to_have_value("")

    page.locator("[data-action=test-flow]").click()
    expect(page.locator('[data-preview-result="l/1/s"]')).to_contain_text("hello bob", timeout=20_000)
    expect(iteration).to_have_value('{"name": "ann"}')  # the first iteration's, as the flow ran it
    page.locator("[data-picker=who]").click()
    expect(page.locator('[data-pick="flow_input.iter.value.name"]')).to_be_visible()
    page.keyboard.press("Escape")

    page.locator("[data-action=test-step]").click()
    expect(page.locator("[data-preview-status]")).to_have_attribute("data-preview-status", "success",
                                                                     timeout=20_000)
    expect(page.locator('[data-preview-result="l/0/s"]')).to_contain_text("hello ann")
    expect(page.locator('[data-preview-result="l/1/s"]')).to_have_count(0)  # it ran alone

    iteration.fill('{"name": "zed"}')
    page.wait_for_timeout(600)
    page.locator("[data-action=test-step]").click()
    expect(page.locator('[data-preview-result="l/0/s"]')).to_contain_text("hello zed", timeout=20_000)

    iteration.fill('{"name": ')
    page.wait_for_timeout(600)
    page.locator("[data-action=test-step]").click()
    expect(page.locator("[data-error=preview]")).to_contain_text("the iteration value (flow_input.iter.value) is not JSON")
