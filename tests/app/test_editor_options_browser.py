"""The step panel's options in a real Chromium: what they write into the OpenFlow
document, and "Test up to here" running only the steps up to the chosen one."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.app.apikit import W, flow_body, py_step
from tests.app.test_editor_browser import node, open_editor

RETURN = "def main():\n    return {'step': '%s'}\n"
OPTIONS = [("retry_attempts", "2"), ("retry_seconds", "1"), ("timeout", "30"),
           ("skip_if", "flow_input.skip === true"), ("suspend_events", "1")]


def test_options_write_exactly_their_openflow_fields_and_upto_stops_at_the_step(page, api):
    path = f"u/tests/options_{uuid.uuid4().hex[:8]}"
    body = flow_body(path, [py_step(step, RETURN % step) for step in ("a", "b", "c")])
    assert api.post(f"{W}/flows/create", json=body).status_code == 201
    open_editor(page, path)

    node(page, "c").click()
    page.locator("[data-panel=step] details > summary").click()
    for name, text in OPTIONS:
        page.locator(f"input[data-option={name}]").fill(text)
    page.locator("[data-option=continue_on_error]").click()
    page.wait_for_timeout(800)  # the inputs are debounced: let the last change reach the server
    page.locator("[data-action=save]").click()
    expect(page.locator("[data-notice]")).to_contain_text("Saved version 2")

    step = api.get(f"{W}/flows/get/{path}").json()["value"]["modules"][2]
    assert {key: value for key, value in step.items() if key not in ("id", "value")} == {
        "retry": {"constant": {"attempts": 2, "seconds": 1}},
        "timeout": 30,
        "continue_on_error": True,
        "skip_if": {"expr": "flow_input.skip === true"},
        "suspend": {"required_events": 1},
    }

    node(page, "b").click()
    page.locator("[data-action=test-upto]").click()
    expect(page.locator("[data-preview-status]")).to_have_attribute("data-preview-status", "success",
                                                                    timeout=20_000)
    expect(page.locator('[data-preview-result="a"]')).to_contain_text('"step": "a"')
    expect(page.locator('[data-preview-result="b"]')).to_contain_text('"step": "b"')
    expect(page.locator('[data-preview-result="c"]')).to_have_count(0)
    expect(node(page, "c").locator('[data-status="success"]')).to_have_count(0)


def test_the_flows_dedicated_worker_switch_is_saved_with_it_and_undone_by_undo(page, api):
    path = f"u/tests/dedicated_{uuid.uuid4().hex[:8]}"
    assert api.post(f"{W}/flows/create", json=flow_body(path, [py_step("a", RETURN % "a")])).status_code == 201
    open_editor(page, path)
    switch = page.locator("[data-field=flow-dedicated-worker]")
    expect(switch).to_have_attribute("data-state", "unchecked")
    switch.click()
    expect(switch).to_have_attribute("data-state", "checked")
    page.locator("[data-action=save]").click()
    expect(page.locator("[data-notice]")).to_contain_text("Saved version 2")
    assert api.get(f"{W}/flows/get/{path}").json()["dedicated_worker"] is True

    page.locator("[data-action=undo]").click()
    expect(switch).to_have_attribute("data-state", "unchecked")
    page.locator("[data-action=save]").click()
    expect(page.locator("[data-notice]")).to_contain_text("Saved version 3")
    assert api.get(f"{W}/flows/get/{path}").json()["dedicated_worker"] is False
