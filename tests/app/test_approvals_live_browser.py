"""The approvals inbox stays current without a reload (new requests, the next step of a
chain asking, decisions made elsewhere), and a resume form's own comment is the review's
one comment field."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.app.apikit import W, ensure_flow, flow_body, py_step, wait_status


def _ask(step_id: str, form: dict | None = None) -> dict:
    suspend = {"required_events": 1, "timeout": 600, **({"resume_form": form} if form else {})}
    return {**py_step(step_id, "def main():\n    return 'asked'\n"), "suspend": suspend}


CHAIN = flow_body("f/tests/inbox_chain", [_ask("first"), _ask("second")])
COMMENTED = flow_body("f/tests/inbox_commented", [
    _ask("ask", {"schema": {"type": "object", "properties": {"comment": {"type": "string", "default": ""}}}}),
    py_step("after", "def main(payload):\n    return payload\n", payload="resume"),
])


def _approve_by_link(api, run_id: str) -> None:
    links = api.get(f"{W}/jobs/resume_urls/{run_id}/r-{run_id[:6]}", params={"approver": "ada@example.com"}).json()
    decided = httpx.post(links["resume"], json={})
    assert decided.status_code == 200, decided.text


def test_the_inbox_follows_requests_and_decisions_made_elsewhere(page, api):
    ensure_flow(api, CHAIN)
    page.goto("/approvals")
    expect(page.locator("[data-table=approvals], :text('No run is waiting')").first).to_be_visible()
    run_id = api.post(f"{W}/jobs/run/f/{CHAIN['path']}", json={}).text
    row = page.locator(f'[data-run-id="{run_id}"]')
    expect(row).to_contain_text("first", timeout=15_000)  # no reload: it came in by itself

    _approve_by_link(api, run_id)  # decided outside this page: the chain's next step asks
    expect(row).to_contain_text("second", timeout=15_000)
    assert api.post(f"{W}/jobs_u/queue/cancel/{run_id}").status_code == 200
    expect(row).to_have_count(0, timeout=15_000)


def test_a_resume_form_with_a_comment_field_gives_the_review_one_comment_field(page, api):
    run_id = api.post(f"{W}/jobs/run/f/{ensure_flow(api, COMMENTED)}", json={}).text
    assert wait_status(api, run_id, {"suspended", "failure"})["status"] == "suspended"
    page.goto("/approvals")
    page.locator(f'[data-run-id="{run_id}"] [data-action=review]').click()
    review = page.locator(f'[data-review="{run_id}"]')
    expect(review.locator('[data-field="comment"]')).to_have_count(1)
    expect(review.locator("[data-comment=review]")).to_have_count(0)
    review.locator('[data-field="comment"] input').fill("fits the budget")
    review.locator("[data-submit=review]").click()
    expect(page.locator("[data-notice=approvals]")).to_contain_text("approved")

    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
    assert api.get(f"{W}/jobs_u/completed/get_result/{run_id}").json() == {"comment": "fits the budget"}
    [decision] = api.get(f"{W}/jobs_u/approvals/{run_id}").json()
    assert decision["comment"] == "fits the budget"
