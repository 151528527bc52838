"""Scripts: create one, edit and save it, run it from the form of its `main`, live logs."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.app.apikit import W

TYPED = '''from typing import Literal, Optional
import time

def main(count: int, loud: bool = False, color: Literal["red", "blue"] = "red",
         tags: list = [], note: Optional[str] = None):
    print(f"count={count} color={color}")
    time.sleep(1.5)
    print("done")
    return {"count": count * 2, "loud": loud, "color": color, "tags": tags, "note": note}
'''


def _create_script(page, path: str) -> None:
    page.goto("/scripts")
    page.locator("[data-field=new-script-path]").fill(path)
    page.locator("[data-action=new-script]").click()
    expect(page).to_have_url(re.compile(f"/scripts/edit/{path}$"))


def test_a_new_script_opens_in_the_editor_with_a_form_of_its_main(page, api):
    _create_script(page, "f/tests/hello_script")
    expect(page.locator('[data-field="name"] input')).to_have_value("world")
    assert api.get(f"{W}/scripts/get/p/f/tests/hello_script").status_code == 200

    page.goto("/scripts")
    expect(page.locator('[data-script-path="f/tests/hello_script"]')).to_be_visible()
    page.locator("[data-field=new-script-path]").fill("no-folder")
    page.locator("[data-action=new-script]").click()
    expect(page.locator("[data-problem=new-script]")).to_contain_text("f/<folder>/<name>")


def test_typed_form_refuses_bad_values_at_the_field_then_runs_with_live_logs(page, api):
    _create_script(page, "f/tests/typed_script")
    editor = page.locator("[data-field=code] .cm-content")
    expect(editor).to_contain_text("def main")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(TYPED)
    expect(editor).to_contain_text("time.sleep(1.5)")
    page.locator("[data-action=save-script]").click()
    expect(page.get_by_text("Saved version 2.")).to_be_visible()
    saved = api.get(f"{W}/scripts/get/p/f/tests/typed_script").json()
    assert saved["schema"]["properties"]["color"]["enum"] == ["red", "blue"]

    form = page.locator("[data-form=script-args]")
    for name, kind in (("count", "integer"), ("loud", "boolean"), ("color", "enum"), ("tags", "json"),
                       ("note", "string")):
        expect(form.locator(f'[data-field="{name}"]')).to_have_attribute("data-kind", kind)

    form.locator('[data-field="count"] input').fill("many")
    form.locator('[data-field="tags"] textarea').fill("[1,")
    form.locator("[data-submit=script-args]").click()
    expect(form.locator('[data-field-error="count"]')).to_have_text("must be a whole number")
    expect(form.locator('[data-field-error="tags"]')).to_contain_text("is not valid JSON")
    expect(page.locator("[data-run-status]")).to_have_count(0)

    form.locator('[data-field="count"] input').fill("21")
    form.locator('[data-field="tags"] textarea').fill('["a", "b"]')
    form.locator('[data-field="loud"] button[role=switch]').click()
    form.locator('[data-field="color"] button').click()
    page.get_by_role("option", name="blue").click()
    form.locator("[data-submit=script-args]").click()
    expect(form.locator("[data-field-error]")).to_have_count(0)

    logs = page.locator("[data-block=script-logs]")
    expect(logs).to_contain_text("count=21 color=blue")
    # The first line shows while the script still sleeps: logs stream, not arrive at the end.
    assert "done" not in logs.inner_text()
    expect(page.locator("[data-run-status]")).to_have_attribute("data-run-status", "running")

    expect(page.locator("[data-run-status]")).to_have_attribute("data-run-status", "success", timeout=20_000)
    expect(logs).to_contain_text("done")
    result = page.locator("[data-block=script-result]")
    for text in ('"count": 42', '"loud": true', '"color": "blue"', '"a"', '"note": null'):
        expect(result).to_contain_text(text)


def test_the_run_form_follows_the_code_as_typed_and_resolves_variables(page, api):
    api.post(f"{W}/variables/create", json={"path": "f/tests/greeting_word", "value": "bonjour", "is_secret": False})
    _create_script(page, "f/tests/follows_code")
    form = page.locator("[data-form=script-args]")
    expect(form.locator('[data-field="name"]')).to_be_visible()
    editor = page.locator("[data-field=code] .cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text('def main(word: str, times: int = 2):\n    return " ".join([word] * times)\n')
    # Never saved: the form is the typed code's, not the last save's.
    expect(form.locator('[data-field="times"]')).to_have_attribute("data-kind", "integer")
    expect(form.locator('[data-field="name"]')).to_have_count(0)
    form.locator('[data-field="word"] input').fill("$var:f/tests/greeting_word")
    form.locator('[data-field="times"] input').fill("3")
    form.locator("[data-submit=script-args]").click()
    expect(page.locator("[data-run-status]")).to_have_attribute("data-run-status", "success", timeout=20_000)
    expect(page.locator("[data-block=script-result]")).to_contain_text("bonjour bonjour bonjour")


def test_a_date_time_argument_gets_a_picker_and_arrives_in_utc(page, api):
    _create_script(page, "f/tests/when_script")
    editor = page.locator("[data-field=code] .cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text("from datetime import datetime\n\ndef main(when: datetime):\n    return str(when)\n")
    form = page.locator("[data-form=script-args]")
    picker = form.locator('[data-field="when"] input')
    expect(picker).to_have_attribute("type", "datetime-local")
    expect(form.locator('[data-field="when"]')).to_contain_text("date-time, UTC")
    picker.fill("2024-05-01T08:30")
    form.locator("[data-submit=script-args]").click()
    expect(page.locator("[data-run-status]")).to_have_attribute("data-run-status", "success", timeout=20_000)
    result = page.locator("[data-block=script-result]")
    expect(result).to_contain_text("2024-05-01")
    expect(result).to_contain_text("08:30:00")


def test_a_list_argument_is_typed_one_item_a_line(page, api):
    _create_script(page, "f/tests/list_script")
    editor = page.locator("[data-field=code] .cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text("def main(ids: list[int]):\n    return sum(ids)\n")
    form = page.locator("[data-form=script-args]")
    field = form.locator('[data-field="ids"]')
    expect(field).to_have_attribute("data-kind", "list")
    field.locator("textarea").fill("4\nfive")
    form.locator("[data-submit=script-args]").click()
    expect(form.locator('[data-field-error="ids"]')).to_have_text("line 2: must be a whole number")
    field.locator("textarea").fill("4\n5\n\n6")
    form.locator("[data-submit=script-args]").click()
    expect(page.locator("[data-run-status]")).to_have_attribute("data-run-status", "success", timeout=20_000)
    expect(page.locator("[data-block=script-result]")).to_have_text("15")


def test_the_dedicated_worker_switch_is_saved_with_the_next_version(page, api):
    _create_script(page, "f/tests/dedicated_script")
    switch = page.locator("[data-field=dedicated-worker]")
    expect(switch).to_have_attribute("data-state", "unchecked")
    switch.click()
    page.locator("[data-action=save-script]").click()
    expect(page.get_by_text("Saved version 2.")).to_be_visible()
    assert api.get(f"{W}/scripts/get/p/f/tests/dedicated_script").json()["dedicated_worker"] is True
    page.reload()
    expect(page.locator("[data-field=dedicated-worker]")).to_have_attribute("data-state", "checked")
