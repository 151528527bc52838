"""Schedules page: create a schedule, see its cron in words and its next firings."""

from __future__ import annotations

from playwright.sync_api import expect

from engine import Store

from tests.app.apikit import DOUBLE, W, ensure_flow


NEVER = "cron expression '0 0 31 2 *' never fires: February has no 31st day"


def _choose(page, field: str, option: str) -> None:
    page.locator(f"[data-select={field}] button[role=combobox]").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_create_a_schedule_with_cron_words_next_firings_and_args(page, api):
    ensure_flow(api, DOUBLE)
    page.goto("/schedules")
    page.locator("[data-action=new-schedule]").click()
    _choose(page, "target", DOUBLE["path"])
    expect(page.locator('[data-field="x"] input')).to_be_visible()

    cron = page.locator("[data-field=cron]")
    cron.fill("61 * * * *")
    expect(page.locator("[data-cron-error]")).to_contain_text("out of range")
    cron.fill("0 0 31 2 *")
    expect(page.locator("[data-cron-error]")).to_have_text(NEVER)
    page.locator("[data-field=schedule-path]").fill("f/tests/browser_never")
    page.locator('[data-field="x"] input').fill("7")
    page.locator("[data-submit=schedule-args]").click()
    expect(page.locator("[data-problem=schedule]")).to_have_text(NEVER)
    assert api.get(f"{W}/schedules/exists/f/tests/browser_never").json() is False
    page.locator("[data-field=schedule-path]").fill("")
    cron.fill("*/15 * * * *")
    expect(page.locator("[data-cron-words]")).to_have_text("every 15 minutes")
    cron.fill("30 9 * * 1-5")
    expect(page.locator("[data-cron-words]")).to_have_text("at 09:30 on Monday through Friday")
    expect(page.locator("[data-next-firing]")).to_have_count(10)
    zone = page.locator("[data-field=timezone]")
    # The box searches the zones as one types: the browser offers those of its list.
    assert page.locator("datalist#timezone-names option").count() > 500
    expect(page.locator('datalist#timezone-names option[value="Europe/Berlin"]')).to_have_count(1)
    assert zone.get_attribute("list") == "timezone-names"
    zone.fill("Europe/Berlim")
    expect(page.locator("[data-cron-error]")).to_contain_text("Europe/Berlim")
    zone.fill("Europe/Berlin")
    expect(page.locator("[data-next-firing]").first).to_contain_text("09:30:00 CE")

    page.locator("[data-field=schedule-path]").fill("f/tests/browser_schedule")
    page.locator('[data-field="x"] input').fill("7")
    page.locator("[data-submit=schedule-args]").click()
    expect(page.locator("[data-saved=schedule]")).to_contain_text("f/tests/browser_schedule")
    row = page.locator('[data-schedule-path="f/tests/browser_schedule"]')
    expect(row).to_contain_text("at 09:30 on Monday through Friday")
    expect(row).to_contain_text("Europe/Berlin")

    saved = api.get(f"{W}/schedules/get/f/tests/browser_schedule").json()
    assert (saved["schedule"], saved["timezone"], saved["args"]) == ("30 9 * * 1-5", "Europe/Berlin", {"x": 7})


def test_a_stored_schedule_that_cannot_fire_says_why_in_the_list(page, api, app_server):
    ensure_flow(api, DOUBLE)
    with Store.open(app_server.db_url) as store:  # as a release that accepted such expressions stored it
        store.save_schedule("f/tests/browser_stored_never", schedule="0 0 31 2 *", script_path=DOUBLE["path"],
                            args={"x": 1})
    try:
        page.goto("/schedules")
        row = page.locator('[data-schedule-path="f/tests/browser_stored_never"]')
        expect(row.locator("[data-schedule-error]")).to_have_text(NEVER)
    finally:
        api.delete(f"{W}/schedules/delete/f/tests/browser_stored_never")


def test_deleting_a_schedule_asks_first(page, api):
    ensure_flow(api, DOUBLE)
    body = {"path": "f/tests/browser_doomed", "schedule": "0 3 * * *", "timezone": "UTC",
            "script_path": DOUBLE["path"], "is_flow": True, "args": {"x": 1}}
    assert api.post(f"{W}/schedules/create", json=body).status_code in (200, 201)
    page.goto("/schedules")
    row = page.locator('[data-schedule-path="f/tests/browser_doomed"]')
    row.locator("[data-action=delete-schedule]").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("f/tests/browser_doomed")
    page.locator("[data-cancel=delete-schedule]").click()
    expect(page.get_by_role("alertdialog")).to_have_count(0)
    assert api.get(f"{W}/schedules/exists/f/tests/browser_doomed").json() is True
    row.locator("[data-action=delete-schedule]").click()
    page.locator("[data-confirm=delete-schedule]").click()
    expect(row).to_have_count(0)
    assert api.get(f"{W}/schedules/exists/f/tests/browser_doomed").json() is False
