"""The pages in a real Chromium against the running app."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.app.apikit import APPROVAL, W, ensure_flow, wait_status

EXAMPLES = ("f/examples/crm_sync", "f/examples/etl_daily", "f/examples/expense_approval")


def test_home_page_shows_navigation_and_recent_runs(page):
    page.goto("/")
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
    for section in ("home", "flows", "scripts", "runs", "approvals"):
        expect(page.locator(f"[data-nav={section}]")).to_be_visible()
    page.locator("[data-nav=flows]").click()
    expect(page).to_have_url(re.compile(r"/flows$"))
    expect(page.get_by_role("heading", name="Flows")).to_be_visible()


def test_flows_list_shows_the_examples_and_search_filters_them(page):
    page.goto("/flows")
    for path in EXAMPLES:
        expect(page.locator(f'[data-flow-path="{path}"]')).to_be_visible()

    page.locator("[data-field=flow-search]").fill("ETL")
    expect(page.locator('[data-flow-path="f/examples/crm_sync"]')).to_have_count(0)
    expect(page.locator('[data-flow-path="f/examples/expense_approval"]')).to_have_count(0)
    expect(page.locator('[data-flow-path="f/examples/etl_daily"]')).to_be_visible()

    page.locator("[data-field=flow-search]").fill("")
    expect(page.locator('[data-flow-path="f/examples/crm_sync"]')).to_be_visible()


def test_a_finished_run_is_listed_and_its_page_shows_steps_and_logs(page, api):
    response = api.post(f"{W}/jobs/run/f/f/examples/crm_sync", json={})
    assert response.status_code == 201, response.text
    run_id = response.text
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"

    page.goto("/runs")
    row = page.locator(f'[data-run-id="{run_id}"]')
    expect(row).to_be_visible()
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "success")
    row.get_by_role("link").click()

    expect(page).to_have_url(re.compile(f"/runs/{run_id}$"))
    for step in ("fetch_crm", "fetch_billing", "detect", "verify", "audit"):
        expect(page.locator(f'[data-step="{step}"] [data-status]').first).to_have_attribute("data-status", "success")
    expect(page.locator('[data-logs="fetch_crm"]')).to_contain_text("crm: 5 contacts")
    expect(page.locator('[data-block="result"]')).to_contain_text(run_id)


def test_run_page_follows_a_waiting_run_until_it_finishes(page, api):
    path = ensure_flow(api, APPROVAL)
    run_id = api.post(f"{W}/jobs/run/f/{path}", json={}).text
    assert wait_status(api, run_id, {"suspended", "success", "failure"})["status"] == "suspended"

    page.goto(f"/runs/{run_id}")
    expect(page.locator('[data-step="ask"] [data-status]')).to_have_attribute("data-status", "success")
    expect(page.locator('[data-block=steps] [data-step="after"]')).to_have_count(0)

    resume = api.get(f"{W}/jobs/resume_urls/{run_id}/page-test").json()["resume"]
    assert api.post(resume, json={"from": "browser test"}).status_code == 200
    expect(page.locator('[data-step="after"] [data-status]')).to_have_attribute("data-status", "success")
    expect(page.locator('[data-block="result"]')).to_contain_text("browser test")


def test_unknown_run_says_so(page):
    page.goto("/runs/no-such-run")
    expect(page.get_by_text("No run has this id.")).to_be_visible()


def test_the_app_serves_its_icon(page):
    page.goto("/")
    icon = page.request.get("/favicon.ico")
    assert icon.status == 200, icon.status
    assert icon.headers["content-type"].startswith("image/")
    assert icon.body()[:4] == b"\x00\x00\x01\x00"  # an ICO file, not a page answering every path
