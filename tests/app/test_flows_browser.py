"""Flows: create, import (paste and upload), export, duplicate, delete; run from a form."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import yaml
from playwright.sync_api import expect

from tests.app.apikit import W

GREETING_YAML = """\
summary: Greeting
description: Says hello a number of times
value:
  modules:
    - id: greet
      value:
        type: rawscript
        language: python3
        content: |
          def main(name: str, times: int, shout: bool):
              text = ("hello " + name) * times
              return text.upper() if shout else text
        input_transforms:
          name: {type: javascript, expr: flow_input.name}
          times: {type: javascript, expr: flow_input.times}
          shout: {type: javascript, expr: flow_input.shout}
schema:
  $schema: https://json-schema.org/draft/2020-12/schema
  type: object
  properties:
    name: {type: string, description: Who to greet}
    times: {type: integer, minimum: 1, default: 1}
    shout: {type: boolean, default: false}
  required: [name, times]
  order: [name, times, shout]
"""


def _import(page, path: str, text: str) -> None:
    page.goto("/flows")
    page.locator("[data-action=import-flow]").click()
    dialog = page.locator("[data-dialog=import]")
    dialog.locator("[data-field=path]").fill(path)
    dialog.locator("[data-field=flow-text]").fill(text)
    dialog.locator("[data-submit=import]").click()
    expect(dialog).to_have_count(0)
    expect(page.locator(f'[data-flow-path="{path}"]')).to_be_visible()


def test_an_imported_yaml_flow_runs_from_its_generated_form(page, api):
    _import(page, "f/tests/greeting", GREETING_YAML)
    page.locator('[data-flow-path="f/tests/greeting"] [data-action=run]').click()
    expect(page).to_have_url(re.compile("/flows/run/f/tests/greeting$"))

    form = page.locator("[data-form=flow-args]")
    expect(form.locator('[data-field="times"] input')).to_have_value("1")
    expect(form.get_by_text("Who to greet")).to_be_visible()
    form.locator('[data-field="times"] input').fill("0")
    form.locator("[data-submit=flow-args]").click()
    expect(form.locator('[data-field-error="name"]')).to_have_text("is required")
    expect(form.locator('[data-field-error="times"]')).to_contain_text("minimum of 1")

    form.locator('[data-field="name"] input').fill("ada ")
    form.locator('[data-field="times"] input').fill("2")
    form.locator('[data-field="shout"] button[role=switch]').click()
    form.locator("[data-submit=flow-args]").click()

    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f]{32}$"))
    expect(page.locator('[data-step="greet"] [data-status]')).to_have_attribute("data-status", "success")
    expect(page.locator('[data-block="result"]')).to_contain_text("HELLO ADA HELLO ADA")
    expect(page.locator('[data-block="args"]')).to_contain_text('"times": 2')


def test_import_refuses_a_broken_document_and_a_bad_path(page):
    page.goto("/flows")
    page.locator("[data-action=import-flow]").click()
    dialog = page.locator("[data-dialog=import]")
    dialog.locator("[data-field=path]").fill("nofolder")
    dialog.locator("[data-field=flow-text]").fill(GREETING_YAML)
    dialog.locator("[data-submit=import]").click()
    expect(dialog.locator("[data-problem=flows]")).to_contain_text("f/<folder>/<name>")
    dialog.locator("[data-field=path]").fill("f/tests/broken")
    dialog.locator("[data-field=flow-text]").fill("value:\n  modules:\n    - id: 1bad\n      value: {type: identity}\n")
    dialog.locator("[data-submit=import]").click()
    expect(dialog.locator("[data-problem=flows]")).to_contain_text("1bad")


def test_a_zip_of_a_synced_flow_folder_imports_with_its_inline_scripts(page, api, tmp_path):
    inline = GREETING_YAML.split("content: |\n")[1].split("        input_transforms")[0]
    script = "".join(line[10:] + "\n" for line in inline.splitlines())
    synced = GREETING_YAML.replace("content: |\n" + inline, "content: '!inline greet.inline_script.py'\n")
    archive = tmp_path / "greeting.zip"
    with zipfile.ZipFile(archive, "w") as folder:
        folder.writestr("greeting.flow/flow.yaml", synced)
        folder.writestr("greeting.flow/greet.inline_script.py", script)
    page.goto("/flows")
    page.locator("[data-action=import-flow]").click()
    dialog = page.locator("[data-dialog=import]")
    dialog.locator("[data-upload=flow] input[type=file]").set_input_files(str(archive))
    expect(dialog.locator("[data-field=flow-text]")).to_have_value(re.compile(r"def main\(name: str"))
    dialog.locator("[data-field=path]").fill("f/tests/synced")
    dialog.locator("[data-submit=import]").click()
    expect(page.locator('[data-flow-path="f/tests/synced"]')).to_be_visible()
    saved = api.get(f"{W}/flows/get/f/tests/synced").json()
    assert saved["value"]["modules"][0]["value"]["content"] == script


def test_upload_export_duplicate_and_delete(page, api, tmp_path):
    upload = tmp_path / "uploaded.flow.yaml"
    upload.write_text(GREETING_YAML.replace("summary: Greeting", "summary: Uploaded greeting"))
    page.goto("/flows")
    page.locator("[data-action=import-flow]").click()
    dialog = page.locator("[data-dialog=import]")
    dialog.locator("[data-upload=flow] input[type=file]").set_input_files(str(upload))
    expect(dialog.locator("[data-field=flow-text]")).to_have_value(re.compile("Uploaded greeting"))
    dialog.locator("[data-field=path]").fill("f/tests/uploaded")
    dialog.locator("[data-submit=import]").click()
    row = page.locator('[data-flow-path="f/tests/uploaded"]')
    expect(row).to_contain_text("Uploaded greeting")

    row.locator("[data-action=export]").click()
    with page.expect_download() as info:
        page.locator("[data-export=yaml]").click()
    assert info.value.suggested_filename == "uploaded.flow.yaml"
    exported = yaml.safe_load(Path(info.value.path()).read_text())
    assert exported["summary"] == "Uploaded greeting"
    assert exported["value"]["modules"][0]["id"] == "greet"
    expect(page.locator("[data-export]")).to_have_count(0)
    row.locator("[data-action=export]").click()
    with page.expect_download() as info:
        page.locator("[data-export=json]").click()
    assert info.value.suggested_filename == "uploaded.flow.json"

    row.locator("[data-action=duplicate]").click()
    dialog = page.locator("[data-dialog=duplicate]")
    dialog.locator("[data-field=path]").fill("f/tests/uploaded_copy")
    dialog.locator("[data-submit=duplicate]").click()
    copy = page.locator('[data-flow-path="f/tests/uploaded_copy"]')
    expect(copy).to_contain_text("Uploaded greeting")

    copy.locator("[data-action=delete]").click()
    confirm = page.locator("[data-dialog=delete]")
    expect(confirm).to_contain_text("f/tests/uploaded_copy")
    confirm.get_by_role("button", name="Cancel").click()
    expect(copy).to_be_visible()
    copy.locator("[data-action=delete]").click()
    page.locator("[data-dialog=delete] [data-submit=delete]").click()
    expect(copy).to_have_count(0)
    assert api.get(f"{W}/flows/exists/f/tests/uploaded_copy").json() is False
    assert api.get(f"{W}/flows/exists/f/tests/uploaded").json() is True


def test_new_flow_opens_the_editor(page, api):
    page.goto("/flows")
    page.locator("[data-action=new-flow]").click()
    dialog = page.locator("[data-dialog=new]")
    dialog.locator("[data-field=path]").fill("f/tests/brand_new")
    dialog.locator("input[name=summary]").fill("Brand new")
    dialog.locator("[data-submit=new]").click()
    expect(page).to_have_url(re.compile("/flows/edit/f/tests/brand_new$"))
    assert api.get(f"{W}/flows/get/f/tests/brand_new").json()["summary"] == "Brand new"
