"""Home statistics (success rate, p95, failures by step) and the approvals page."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.app.apikit import APPROVAL, W, ensure_flow, flow_body, py_step, wait_status

# Home lists the ten steps that failed most (ties by path): this flow fails three times and
# sorts first, so the failing flows other tests leave on the shared server do not push it out.
FLAKY = flow_body("f/aaa/flaky", [
    py_step("check", "def main(x: int):\n    if x % 2:\n        raise ValueError('odd')\n    return x\n",
            x="flow_input.x")], {"x": {"type": "integer"}})


def _run(api, path: str, args: dict) -> str:
    run_id = api.post(f"{W}/jobs/run/f/{path}", json=args).text
    wait_status(api, run_id, {"success", "failure", "suspended"})
    return run_id


def test_home_shows_success_rate_p95_and_failures_by_step(page, api):
    path = ensure_flow(api, FLAKY)
    for x in (1, 3, 5, 2):
        _run(api, path, {"x": x})
    page.goto("/")
    row = page.locator(f'[data-flow-stat="{path}"]')
    expect(row.locator("td").nth(2)).to_have_text("25%")
    expect(row.locator("td").nth(1)).to_have_text("4")
    expect(row).to_contain_text(" s")
    expect(page.locator(f'[data-failure="{path}:check"]')).to_contain_text("3")
    expect(page.locator("[data-chart=success_rate] .recharts-bar-rectangle").first).to_be_visible()
    expect(page.locator("[data-chart=p95] .recharts-bar-rectangle").first).to_be_visible()


def test_approvals_page_approves_and_rejects_waiting_runs(page, api):
    path = ensure_flow(api, APPROVAL)
    to_approve, to_reject = _run(api, path, {}), _run(api, path, {})
    page.goto("/")
    expect(page.locator("[data-stat=pending]")).not_to_have_text("0")

    page.goto("/approvals")
    for run_id in (to_approve, to_reject):
        expect(page.locator(f'[data-run-id="{run_id}"]')).to_contain_text("ask")
    page.locator(f'[data-run-id="{to_approve}"] [data-action=approve]').click()
    expect(page.locator(f'[data-run-id="{to_approve}"]')).to_have_count(0)
    expect(page.locator("[data-notice=approvals]")).to_contain_text("approved")
    page.locator(f'[data-run-id="{to_reject}"] [data-action=reject]').click()
    expect(page.locator(f'[data-run-id="{to_reject}"]')).to_have_count(0)

    assert wait_status(api, to_approve, {"success", "failure"})["status"] == "success"
    assert wait_status(api, to_reject, {"success", "failure"})["status"] == "failure"
