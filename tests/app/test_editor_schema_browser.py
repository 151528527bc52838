"""The editor's input schema view in a real Chromium: a field edited there is saved with
the flow and becomes a field of the "Test flow" form."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.app.apikit import W
from tests.app.test_editor_browser import ARTIFACTS, new_flow, node, open_editor


def test_an_email_input_with_default_is_saved_and_shows_in_the_test_form(page, api):
    path = new_flow(api)
    open_editor(page, path)
    page.locator("[data-view=schema]").click()
    page.locator("[data-action=add-field]").click()
    page.locator('input[data-field-name="0"]').fill("email")
    expect(page.locator("[data-schema-field=email]")).to_be_visible()
    page.locator('[data-field-format="0"] button').click()
    page.get_by_role("option", name="email", exact=True).click()
    page.locator('input[data-field-default="0"]').fill("ada@example.com")
    json_view = page.locator("[data-schema-json]")
    expect(json_view).to_contain_text('"default": "ada@example.com"')
    page.locator('[data-field-required="0"]').click()
    expect(json_view).to_contain_text('"format": "email"')
    expect(json_view).to_contain_text(re.compile(r'"required": \[\s*"email"\s*\]'))
    page.screenshot(path=str(ARTIFACTS / "editor-schema.png"))

    page.locator("[data-action=save]").click()
    expect(page.locator("[data-notice]")).to_contain_text("Saved version 2")
    page.reload()
    expect(node(page, "@input")).to_be_visible()
    schema = api.get(f"{W}/flows/get/{path}").json()["schema"]
    assert schema["properties"] == {"email": {"type": "string", "format": "email", "default": "ada@example.com"}}
    assert schema["required"] == ["email"]
    expect(page.locator("[data-arg=email]")).to_have_value("ada@example.com")

    page.locator("[data-view=schema]").click()
    expect(page.locator('input[data-field-name="0"]')).to_have_value("email")
    expect(page.locator('[data-field-required="0"]')).to_have_attribute("data-state", "checked")


def test_a_bad_default_is_reported_and_left_out(page, api):
    path = new_flow(api)
    open_editor(page, path)
    page.locator("[data-view=schema]").click()
    page.locator("[data-action=add-field]").click()
    page.locator('[data-field-type="0"] button').click()
    page.get_by_role("option", name="integer", exact=True).click()
    expect(page.locator("[data-schema-json]")).to_contain_text('"type": "integer"')
    page.locator('input[data-field-default="0"]').fill("ten")
    expect(page.locator('[data-field-problem="0"]')).to_contain_text("'ten' is not an integer")
    expect(page.locator("[data-schema-json]")).not_to_contain_text("ten")


def test_the_test_flow_form_is_the_generated_form_and_refuses_an_empty_required_field(page, api):
    from tests.app.apikit import flow_body, py_step

    path = f"u/tests/form_{uuid.uuid4().hex[:8]}"
    code = "def main(color: str, times: int = 2):\n    return color * times\n"
    properties = {"color": {"type": "string", "enum": ["red", "blue"], "description": "the paint"},
                  "times": {"type": "integer", "default": 2}}
    body = flow_body(path, [py_step("paint", code, color="flow_input.color", times="flow_input.times")], properties)
    body["schema"]["required"] = ["color"]
    assert api.post(f"{W}/flows/create", json=body).status_code == 201
    open_editor(page, path)
    form = page.locator("[data-panel=preview]")
    color = form.locator('[data-field="color"]')
    expect(color).to_have_attribute("data-kind", "enum")
    expect(color).to_contain_text("the paint")  # descriptions and types, as on the Run page
    expect(color).not_to_contain_text("optional")
    expect(form.locator('[data-field="times"]')).to_contain_text("integer, optional")
    expect(form.locator('[data-field="times"] input')).to_have_value("2")

    page.locator("[data-action=test-flow]").click()  # the required color left empty: refused at its field
    expect(form.locator("[data-field-error=color]")).to_have_text("is required")
    expect(page.locator("[data-preview-status]")).to_have_count(0)

    form.locator('[data-field="times"] input').fill("two")
    color.locator("button").click()
    page.get_by_role("option", name="blue").click()
    page.locator("[data-action=test-flow]").click()
    expect(form.locator("[data-field-error=times]")).to_have_text("must be a whole number")
    form.locator('[data-field="times"] input').fill("3")
    page.locator("[data-action=test-flow]").click()
    expect(page.locator('[data-preview-result="paint"]')).to_contain_text("blueblueblue", timeout=20_000)
    expect(form.locator("[data-field-error]")).to_have_count(0)
