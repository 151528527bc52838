"""The approvals inbox in Chromium: review a run, fill its resume form, approve or reject."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.app.apikit import W, ensure_flow, flow_body, py_step, wait_status

FORM = {"schema": {"type": "object", "properties": {"amount": {"type": "integer", "default": 5}},
                   "required": ["amount"]}}
REVIEWED = flow_body("f/tests/inbox_form", [
    py_step("quote", "def main():\n    return {'price': 42}\n"),
    {**py_step("ask", "def main():\n    return 'asked'\n"),
     "suspend": {"required_events": 1, "timeout": 600, "resume_form": FORM}},
    py_step("after", "def main(payload, approvers: list):\n    return {'payload': payload, 'by': approvers}\n",
            payload="resume", approvers="approvers"),
])


def _suspended(api) -> str:
    run_id = api.post(f"{W}/jobs/run/f/{ensure_flow(api, REVIEWED)}", json={}).text
    assert wait_status(api, run_id, {"suspended", "success", "failure"})["status"] == "suspended"
    return run_id


def test_inbox_review_approves_with_the_form_payload_and_a_comment(page, api):
    run_id = _suspended(api)
    page.goto("/approvals")
    page.locator(f'[data-run-id="{run_id}"] [data-action=review]').click()
    review = page.locator(f'[data-review="{run_id}"]')
    expect(review.locator('[data-context-step="quote"]')).to_contain_text("42")
    review.locator('[data-field="amount"] input').fill("7")
    review.locator("[data-comment=review]").fill("within budget")
    review.locator("[data-submit=review]").click()
    expect(page.locator("[data-notice=approvals]")).to_contain_text("approved")

    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
    assert api.get(f"{W}/jobs_u/completed/get_result/{run_id}").json() == {
        "payload": {"amount": 7}, "by": ["admin"]}
    page.goto(f"/runs/{run_id}")
    decisions = page.locator("[data-block=decisions]")
    expect(decisions).to_contain_text("within budget")
    expect(decisions).to_contain_text("approved")


def test_inbox_review_rejects_with_a_comment(page, api):
    run_id = _suspended(api)
    page.goto("/approvals")
    page.locator(f'[data-run-id="{run_id}"] [data-action=review]').click()
    review = page.locator(f'[data-review="{run_id}"]')
    review.locator("[data-comment=review]").fill("no")
    review.locator("[data-submit=reject]").click()
    expect(page.locator("[data-notice=approvals]")).to_contain_text("rejected")
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "failure"
    [decision] = api.get(f"{W}/jobs_u/approvals/{run_id}").json()
    assert (decision["approved"], decision["comment"]) == (False, "no")


def test_inbox_lists_whom_links_were_asked_for(page, api):
    run_id = _suspended(api)
    for approver in ("bob", "carol", "bob"):
        assert api.get(f"{W}/jobs/resume_urls/{run_id}/r-{approver}", params={"approver": approver}).status_code == 200
    page.goto("/approvals")
    expect(page.locator(f'[data-run-id="{run_id}"] [data-asked-of]')).to_have_attribute("data-asked-of", "bob, carol")
