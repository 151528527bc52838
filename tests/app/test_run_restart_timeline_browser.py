"""A restarted run's timeline: bars in flow order (a loop before its iterations), spread
over the new run's own span, and the steps reused from the original run marked."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.app.apikit import W, ensure_flow, flow_body, py_step, wait_status

NAP = "import time\n\ndef main(x=None):\n    time.sleep(0.3)\n    return 1\n"
LOOPED = flow_body("f/tests/restart_timeline", [
    py_step("a", NAP),
    {"id": "b", "value": {"type": "forloopflow", "iterator": {"type": "javascript", "expr": "[1, 2, 3]"},
                          "modules": [py_step("c", NAP)]}},
    py_step("d", NAP),
])


def _width(page, key: str) -> float:
    """How much of its track a bar covers (%)."""
    return page.locator(f'[data-bar="{key}"]').evaluate(
        "bar => 100 * bar.getBoundingClientRect().width / bar.parentElement.getBoundingClientRect().width")


def test_a_restarted_run_orders_its_bars_by_the_flow_spreads_them_and_marks_the_reused(page, api):
    run_id = api.post(f"{W}/jobs/run/f/{ensure_flow(api, LOOPED)}", json={}).text
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
    time.sleep(3)  # the restart starts well after the original run: reused times are older
    page.goto(f"/runs/{run_id}")
    page.locator("[data-field=restart-from]").click()
    page.get_by_role("option", name="b/1/c").click()
    page.locator("[data-action=restart]").click()
    expect(page).not_to_have_url(re.compile(f"/runs/{run_id}$"))
    expect(page.get_by_text("Restarted from run")).to_be_visible()
    expect(page.locator('[data-bar="d"]')).to_have_attribute("data-status", "success", timeout=20_000)

    keys = page.locator("[data-bar]").evaluate_all("bars => bars.map(bar => bar.dataset.bar)")
    assert keys == ["a", "b", "b/0/c", "b/1/c", "b/2/c", "d"]
    for key in keys:
        expect(page.locator(f'[data-bar="{key}"]')).to_have_attribute(
            "data-reused", "true" if key in ("a", "b/0/c") else "false")
    assert _width(page, "b") > 40, _width(page, "b")  # the loop ran most of this run: not squashed
