"""The page of a run with a 5,000-iteration loop opens fast, summarises the loop and pages
through its iterations (a page at a time, never a row per iteration); a step's long log
is paged too."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.app.apikit import W, ensure_flow, flow_body, py_step, wait_status

COUNT = 5_000
PAGE = 50  # app.views.run_view.PAGE_ITERATIONS
BIG_LOOP = flow_body("f/tests/big_loop", [
    {"id": "l", "value": {"type": "forloopflow",
                          "iterator": {"type": "javascript", "expr": f"Array.from({{length: {COUNT}}}, (_, i) => i)"},
                          "modules": [{"id": "s", "value": {"type": "identity"}}]}},
    {"id": "after", "value": {"type": "identity"}},
])
LONG_LOG = flow_body("f/tests/long_log", [
    py_step("chatty", "def main():\n    for n in range(450):\n        print(f'line {n}')\n    return 'done'\n"),
])


def test_a_run_of_a_big_loop_opens_fast_and_pages_through_its_iterations(page, api):
    run_id = api.post(f"{W}/jobs/run/f/{ensure_flow(api, BIG_LOOP)}", json={}).text
    assert wait_status(api, run_id, {"success", "failure"}, timeout=120)["status"] == "success"

    began = time.monotonic()
    page.goto(f"/runs/{run_id}")
    summary = page.locator('[data-loop-summary="l"]')
    expect(summary).to_have_text("5,000 iterations: 5,000 success")
    assert time.monotonic() - began < 5.0
    steps = page.locator("[data-block=steps] > [data-step]")
    expect(steps).to_have_count(2 + PAGE)  # l, its first page of iterations, after
    expect(page.locator('[data-loop-range="l"]')).to_have_text("iterations 1–50 of 5,000")
    expect(page.locator('[data-step="l/49/s"] [data-status]')).to_have_attribute("data-status", "success")
    expect(page.locator('[data-bar="l"]')).to_be_visible()
    expect(page.get_by_text("l ×5,000")).to_be_visible()  # the timeline's bar of the loop says its count
    expect(page.locator('[data-block=run-graph] [data-step="s"]')).to_have_attribute("data-status", "success")
    expect(page.locator('[data-block=run-graph] [data-step="l"]')).to_contain_text("×5,000")  # the graph says it too

    loop = page.locator('[data-loop="l"]')
    loop.locator("[data-page=next]").click()
    expect(page.locator('[data-loop-range="l"]')).to_have_text("iterations 51–100 of 5,000")
    expect(page.locator('[data-step="l/50/s"]')).to_be_visible()
    expect(page.locator('[data-step="l/0/s"]')).to_have_count(0)

    loop.locator("[data-page=last]").click()
    expect(page.locator('[data-loop-range="l"]')).to_have_text("iterations 4,951–5,000 of 5,000")
    expect(page.locator('[data-step="l/4999/s"] [data-status]')).to_have_attribute("data-status", "success")
    expect(loop.locator("[data-page=next]")).to_be_disabled()
    expect(steps).to_have_count(2 + PAGE)

    loop.locator("[data-page=first]").click()
    expect(page.locator('[data-step="l/0/s"]')).to_be_visible()
    expect(loop.locator("[data-page=prev]")).to_be_disabled()


def test_a_step_with_a_long_log_shows_it_a_page_of_lines_at_a_time(page, api):
    run_id = api.post(f"{W}/jobs/run/f/{ensure_flow(api, LONG_LOG)}", json={}).text
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
    page.goto(f"/runs/{run_id}")
    logs, where = page.locator('[data-logs="chatty"]'), page.locator('[data-log-range="chatty"]')
    step = page.locator('[data-step="chatty"]')
    expect(where).to_have_text("lines 1–200")
    expect(logs).to_contain_text("line 199")
    expect(logs).not_to_contain_text("line 200")
    step.locator("[data-page=log_next]").click()
    expect(where).to_have_text("lines 201–400")
    expect(logs).to_contain_text("line 200")
    expect(logs).not_to_contain_text("line 199")
    step.locator("[data-page=log_next]").click()
    expect(where).to_have_text("lines 401–450")
    expect(logs).to_contain_text("line 449")
    expect(step.locator("[data-page=log_next]")).to_be_disabled()
    step.locator("[data-page=log_prev]").click()
    expect(where).to_have_text("lines 201–400")
