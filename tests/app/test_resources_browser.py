"""Variables and resources pages: a secret shows masked, and a step printing it logs `***`."""

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


def test_resources_page_lists_builtin_types_and_refuses_a_bad_value(page):
    page.goto("/resources")
    for name in ("postgresql", "http", "smtp", "slack_webhook"):
        expect(page.locator(f'[data-type-name="{name}"]')).to_be_visible()
    page.locator("[data-field=res-path]").fill("u/admin/browser_db")
    page.locator("[data-field=res-type]").fill("postgresql")
    page.locator("[data-field=res-value]").fill('{"host": "h", "dbname": "d", "port": "x"}')
    page.locator("[data-action=save-resource]").click()
    expect(page.locator("[data-problem=resources]")).to_contain_text("value.port")
    page.locator("[data-field=res-value]").fill('{"host": "h", "dbname": "d", "port": 5432}')
    page.locator("[data-action=save-resource]").click()
    expect(page.locator('[data-resource-path="u/admin/browser_db"]')).to_contain_text("5432")
