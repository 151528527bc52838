"""A screenshot of every page (the editor on each example, a run with a step opened, the
approvals inbox), saved under test-artifacts/ for people to look at."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.app.apikit import APPROVAL, DOUBLE, W, ensure_flow, wait_status

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_every_page_renders_and_is_saved_as_a_screenshot(page, api):
    ensure_flow(api, DOUBLE)
    ensure_flow(api, APPROVAL)
    run_id = api.post(f"{W}/jobs/run/f/f/examples/etl_daily", json={}).text
    wait_status(api, run_id, {"success", "failure"})
    wait_status(api, api.post(f"{W}/jobs/run/f/f/tests/approval", json={}).text, {"suspended"})
    ARTIFACTS.mkdir(exist_ok=True)
    shots = {
        "home": ("/", "Home"),
        "flows": ("/flows", "Flows"),
        "flow-run": ("/flows/run/f/tests/double", "Run a flow"),
        "flow-editor": ("/flows/edit/f/tests/double", None),
        "scripts": ("/scripts", "Scripts"),
        "script-editor": ("/scripts/edit/f/examples/order_quote", "Script"),
        "runs": ("/runs", "Runs"),
        "run": (f"/runs/{run_id}", "Run"),
        "approvals": ("/approvals", "Approvals"),
    }
    for name, (url, heading) in shots.items():
        page.goto(url)
        if heading is not None:
            expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 5_000
    for example in ("crm_sync", "etl_daily", "expense_approval"):  # the editor on each example
        page.goto(f"/flows/edit/f/examples/{example}")
        expect(page.locator('.react-flow__node[data-id="@result"]')).to_be_visible()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(ARTIFACTS / f"editor-{example}.png"))
    page.goto(f"/runs/{run_id}")  # a run's page with a step opened
    page.locator('[data-block=run-graph] .react-flow__node[data-id="validate"]').click()
    expect(page.locator("[data-block=step-detail] [data-detail=timing]")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "run-step-opened.png"), full_page=True)
    page.goto("/flows")
    page.locator("[data-action=import-flow]").click()
    expect(page.locator("[data-dialog=import]")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "flows-import-dialog.png"))
