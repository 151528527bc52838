"""Objects in generated forms: an object with properties gets a field per property (typed,
required ones marked), a free-form object gets key/value rows; what is typed reaches the
run's arguments exactly, from the Run page and from the editor's Test flow form."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.app.apikit import W, flow_body, py_step
from tests.app.test_editor_browser import open_editor

PROPERTIES = {
    "customer": {"type": "object", "description": "who orders", "required": ["name"], "properties": {
        "name": {"type": "string"}, "age": {"type": "integer"}, "vip": {"type": "boolean"},
        "address": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string"}}}}},
    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
    "extra": {"type": "object"},
}
EXPECTED = {"customer": {"name": "Ada", "age": 36, "vip": True, "address": {"city": "Oslo"}},
            "labels": {"team": "ops", "tier": "1"}, "extra": {"n": 5, "s": "hello", "q": "7"}}


def _flow(api) -> str:
    path = f"u/tests/objects_{uuid.uuid4().hex[:8]}"
    body = flow_body(path, [py_step("echo", "def main(x):\n    return x\n", x="flow_input")], PROPERTIES)
    body["schema"]["required"] = ["customer"]
    assert api.post(f"{W}/flows/create", json=body).status_code == 201
    return path


def _entries(field, rows: list[tuple[str, str]]) -> None:
    for index, (key, value) in enumerate(rows):
        field.locator("[data-kv-add]").click()
        field.locator(f'[data-kv-key="{index}"]').fill(key)
        field.locator(f'[data-kv-value="{index}"]').fill(value)


def _fill(form, fill_text) -> None:
    """Everything but the customer's name and age (each form sets those its own way)."""
    form.locator('[data-field="customer.vip"] button[role=switch]').click()
    fill_text(form.locator('[data-field="customer.address.city"] input'), "Oslo")
    _entries(form.locator('[data-field="labels"]'), [("team", "ops"), ("tier", "1")])
    _entries(form.locator('[data-field="extra"]'), [("n", "5"), ("s", "hello"), ("q", '"7"')])


def _args(api, run_id: str) -> dict:
    return api.get(f"{W}/jobs_u/get/{run_id}").json()["args"]


def test_objects_from_the_run_page_reach_the_runs_arguments(page, api):
    path = _flow(api)
    page.goto(f"/flows/run/{path}")
    form = page.locator("[data-form=flow-args]")
    expect(form.locator('[data-field="customer"]')).to_have_attribute("data-kind", "object")
    expect(form.locator('[data-field="customer"]')).to_contain_text("who orders")
    expect(form.locator('[data-field="customer.name"]')).not_to_contain_text("optional")
    expect(form.locator('[data-field="customer.age"]')).to_contain_text("integer, optional")
    expect(form.locator('[data-field="customer.address.zip"]')).to_contain_text("string, optional")
    expect(form.locator('[data-field="labels"]')).to_have_attribute("data-kind", "keyvalue")
    expect(form.locator("[data-field] textarea")).to_have_count(0)  # no object is JSON text any more

    form.locator('[data-field="customer.age"] input').fill("thirty")
    _entries(form.locator('[data-field="extra"]'), [("", "orphan")])
    form.locator("[data-submit=flow-args]").click()
    expect(form.locator('[data-field-error="customer.name"]')).to_have_text("is required")
    expect(form.locator('[data-field-error="customer.age"]')).to_have_text("must be a whole number")
    expect(form.locator('[data-field-error="extra"]')).to_have_text("entry 1 needs a key")
    form.locator('[data-field="extra"] [data-kv-remove="0"]').click()

    form.locator('[data-field="customer.name"] input').fill("Ada")
    form.locator('[data-field="customer.age"] input').fill("36")
    _fill(form, lambda box, text: box.fill(text))
    form.locator("[data-submit=flow-args]").click()
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f]{32}$"))
    run_id = page.url.rsplit("/", 1)[1]
    expect(page.locator('[data-step="echo"] [data-status]')).to_have_attribute("data-status", "success")
    assert _args(api, run_id) == EXPECTED


def test_objects_from_the_editors_test_flow_form_reach_the_runs_arguments(page, api):
    path = _flow(api)
    open_editor(page, path)
    form = page.locator("[data-panel=preview]")
    expect(form.locator('[data-field="customer.name"]')).to_be_visible()

    def typed(box, text: str) -> None:
        box.fill(text)
        box.press("Tab")

    typed(form.locator('[data-field="customer.name"] input'), "Ada")
    typed(form.locator('[data-field="customer.age"] input'), "36")
    _fill(form, typed)
    page.wait_for_timeout(700)  # the bound inputs send their text after a pause
    page.locator("[data-action=test-flow]").click()
    expect(page.locator('[data-preview-result="echo"]')).to_contain_text('"Oslo"', timeout=20_000)
    newest, = api.get(f"{W}/jobs/list", params={"script_path_exact": path}).json()  # the preview is its one run
    assert _args(api, newest["id"]) == EXPECTED
