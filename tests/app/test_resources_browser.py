"""Variables, resources and resource types pages: a secret shows masked (and `***` in logs);
a resource is entered through a form generated from its type, checked at each field."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.app.apikit import W, ensure_flow, flow_body, py_step, wait_status

SECRET = "browser-secret-31337"


def test_secret_variable_shows_masked_and_is_masked_in_run_logs(page, api):
    page.goto("/variables")
    page.locator("[data-field=var-path]").fill("u/admin/browser_pw")
    page.locator("[data-field=var-value]").fill(SECRET)
    page.locator("[data-field=var-secret]").click()
    page.locator("[data-action=save-variable]").click()
    row = page.locator('[data-variable-path="u/admin/browser_pw"]')
    expect(row).to_contain_text("secret")
    expect(row.locator("[data-value]")).to_contain_text("••••")
    assert SECRET not in page.content()

    code = "def main(pw: str):\n    print('pw:', pw)\n    return len(pw)\n"
    step = py_step("show", code)
    step["value"]["input_transforms"] = {"pw": {"type": "static", "value": "$var:u/admin/browser_pw"}}
    path = ensure_flow(api, flow_body("f/tests/browser_secret", [step]))
    run_id = api.post(f"{W}/jobs/run/f/{path}", json={}).text
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
    page.goto(f"/runs/{run_id}")
    expect(page.locator('[data-logs="show"]')).to_contain_text("pw: ***")
    assert SECRET not in page.content()


def _choose_type(page, name: str) -> None:
    page.locator("[data-select=res-type] button[role=combobox]").click()
    page.get_by_role("option", name=name, exact=True).click()


def _fill(page, field: str, text: str) -> None:
    page.locator(f'[data-form=resource] [data-field="{field}"] input').fill(text)


def test_postgresql_resource_from_its_generated_form_reports_a_bad_port_at_the_field(page, api):
    page.goto("/resources")
    _choose_type(page, "postgresql")
    expect(page.locator('[data-field="port"]')).to_have_attribute("data-kind", "integer")
    _fill(page, "host", "db.internal")
    _fill(page, "dbname", "sales")
    _fill(page, "password", "$var:u/admin/browser_pg_pw")
    _fill(page, "port", "x")
    page.locator("[data-field=res-path]").fill("u/admin/browser_db")
    page.locator("[data-submit=resource]").click()
    expect(page.locator("[data-field-error=port]")).to_contain_text("whole number")
    expect(page.locator('[data-resource-path="u/admin/browser_db"]')).to_have_count(0)

    _fill(page, "port", "5432")
    page.locator("[data-submit=resource]").click()
    expect(page.locator('[data-resource-path="u/admin/browser_db"]')).to_contain_text("5432")
    expect(page.locator("[data-field-error=port]")).to_have_count(0)
    value = api.get(f"{W}/resources/get_value/u/admin/browser_db").json()
    assert value == {"host": "db.internal", "dbname": "sales", "port": 5432, "password": "$var:u/admin/browser_pg_pw"}

    row = page.locator('[data-resource-path="u/admin/browser_db"]')
    row.locator("[data-action=delete-resource]").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("u/admin/browser_db")
    page.locator("[data-confirm=delete-resource]").click()
    expect(row).to_have_count(0)
    assert api.get(f"{W}/resources/exists/u/admin/browser_db").json() is False


def test_custom_type_is_checked_as_json_schema_and_then_gets_its_own_form(page, api):
    page.goto("/resource-types")
    for name in ("postgresql", "http", "smtp", "slack_webhook", "any"):
        expect(page.locator(f'[data-type-name="{name}"]')).to_be_visible()
    expect(page.locator('[data-type-fields="postgresql"]')).to_contain_text("host (string, required)")
    page.locator("[data-field=type-name]").fill("browser_acme")
    schema = page.locator("[data-field=type-schema]")
    schema.fill('{"type": "object",')
    page.locator("[data-action=save-type]").click()
    expect(page.locator("[data-field-error=type-schema]")).to_contain_text("not valid JSON")
    schema.fill('{"type": "object", "properties": {"key": {"type": "text"}}}')
    page.locator("[data-action=save-type]").click()
    expect(page.locator("[data-field-error=type-schema]")).to_contain_text("not a valid JSON Schema")
    schema.fill('{"type": "object", "required": ["key"], "properties": {"key": {"type": "string"}, '
                '"retries": {"type": "integer", "minimum": 0}}}')
    page.locator("[data-action=save-type]").click()
    expect(page.locator('[data-type-fields="browser_acme"]')).to_contain_text("key (string, required), retries")
    expect(page.locator("[data-field-error=type-schema]")).to_have_count(0)

    page.goto("/resources")
    _choose_type(page, "browser_acme")
    _fill(page, "key", "$var:u/admin/browser_acme_key")
    _fill(page, "retries", "-1")
    page.locator("[data-field=res-path]").fill("u/admin/browser_acme")
    page.locator("[data-submit=resource]").click()
    expect(page.locator("[data-field-error=retries]")).to_contain_text("minimum of 0")
    _fill(page, "retries", "3")
    page.locator("[data-submit=resource]").click()
    expect(page.locator('[data-resource-path="u/admin/browser_acme"]')).to_contain_text("browser_acme")
    value = api.get(f"{W}/resources/get_value/u/admin/browser_acme").json()
    assert value == {"key": "$var:u/admin/browser_acme_key", "retries": 3}


def test_a_type_without_fields_takes_raw_json(page, api):
    page.goto("/resources")
    _choose_type(page, "any")
    value = page.locator("[data-field=res-value]")
    value.fill("[1, 2")
    page.locator("[data-form=resource-raw] [data-field=res-path]").fill("u/admin/browser_any")
    page.locator("[data-submit=resource-raw]").click()
    expect(page.locator("[data-form-error=resource-raw]")).to_contain_text("not valid JSON")
    value.fill('{"anything": [1, 2]}')
    page.locator("[data-submit=resource-raw]").click()
    expect(page.locator('[data-resource-path="u/admin/browser_any"]')).to_be_visible()
    assert api.get(f"{W}/resources/get_value/u/admin/browser_any").json() == {"anything": [1, 2]}


def test_a_variable_is_edited_in_place_and_deleted_after_a_question(page, api):
    page.goto("/variables")
    for path, value, secret in (("u/admin/browser_plain", "first", False), ("u/admin/browser_key", "k-123", True)):
        page.locator("[data-field=var-path]").fill(path)
        page.locator("[data-field=var-value]").fill(value)
        if secret:
            page.locator("[data-field=var-secret]").click()
        page.locator("[data-action=save-variable]").click()
        expect(page.locator(f'[data-variable-path="{path}"]')).to_be_visible()

    plain = page.locator('[data-variable-path="u/admin/browser_plain"]')
    plain.locator("[data-action=edit-variable]").click()
    expect(page.locator("[data-field=var-value]")).to_have_value("first")
    page.locator("[data-field=var-value]").fill("second")
    page.locator("[data-field=var-description]").fill("changed in place")
    page.locator("[data-action=save-variable]").click()
    expect(plain.locator("[data-value]")).to_have_text("second")
    expect(plain).to_contain_text("changed in place")

    secret = page.locator('[data-variable-path="u/admin/browser_key"]')
    secret.locator("[data-action=edit-variable]").click()
    expect(page.locator("[data-field=var-value]")).to_have_value("")  # a secret is never sent back
    page.locator("[data-field=var-description]").fill("the key")
    page.locator("[data-action=save-variable]").click()
    expect(secret).to_contain_text("the key")
    step = py_step("check", "def main(key: str):\n    return key == 'k-123'\n")
    step["value"]["input_transforms"] = {"key": {"type": "static", "value": "$var:u/admin/browser_key"}}
    path = ensure_flow(api, flow_body("f/tests/browser_key_kept", [step]))
    run = wait_status(api, api.post(f"{W}/jobs/run/f/{path}", json={}).text, {"success", "failure"})
    assert run["status"] == "success" and run["result"] is True, run  # no new value given: the secret kept

    plain.locator("[data-action=delete-variable]").click()
    page.locator("[data-cancel=delete-variable]").click()
    expect(plain).to_be_visible()
    plain.locator("[data-action=delete-variable]").click()
    page.locator("[data-confirm=delete-variable]").click()
    expect(plain).to_have_count(0)
    assert api.get(f"{W}/variables/exists/u/admin/browser_plain").json() is False
