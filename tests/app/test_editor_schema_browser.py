"""The editor's input schema view in a real Chromium: a field edited there is saved with
the flow and becomes a field of the "Test flow" form."""

from __future__ import annotations

import re

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
