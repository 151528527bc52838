"""Unsaved edits in the flow editor: every way out asks first (sidebar links, reload,
closing the tab), and a draft kept in the browser is offered when the flow opens again."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.app.apikit import W, flow_body, py_step

CODE = "def main():\n    return 1\n"


def _flow(api) -> str:
    path = f"u/tests/unsaved_{uuid.uuid4().hex[:8]}"
    response = api.post(f"{W}/flows/create", json=flow_body(path, [py_step("only", CODE)]))
    assert response.status_code == 201, response.text
    return path


def _open_and_edit(page, path: str, summary: str) -> None:
    page.goto(f"/flows/edit/{path}")
    page.locator('.react-flow__node[data-id="only"]').click()
    page.locator("[data-field=step-summary]").fill(summary)
    expect(page.get_by_text("unsaved changes")).to_be_visible()
    expect(page.locator('.react-flow__node[data-id="only"]')).to_contain_text(summary)


def test_leaving_with_unsaved_edits_asks_and_a_reload_offers_the_draft(page, api):
    path = _flow(api)
    _open_and_edit(page, path, "kept summary")
    asked: list[tuple[str, str]] = []

    def refuse(dialog):
        asked.append((dialog.type, dialog.message))
        dialog.dismiss()

    page.on("dialog", refuse)
    page.locator("[data-nav=runs]").click()  # an in-app link: the editor asks, the user stays
    page.wait_for_timeout(300)
    assert asked and asked[0][0] == "confirm" and "unsaved changes" in asked[0][1]
    assert f"/flows/edit/{path}" in page.url
    expect(page.get_by_text("unsaved changes")).to_be_visible()

    page.remove_listener("dialog", refuse)
    page.on("dialog", lambda dialog: (asked.append((dialog.type, dialog.message)), dialog.accept()))
    page.reload()  # the browser asks before unloading; accepted, the page reloads
    assert any(kind == "beforeunload" for kind, _ in asked), asked
    offer = page.locator("[data-draft-offer]")
    expect(offer).to_contain_text("edited from version 1")
    expect(page.locator('.react-flow__node[data-id="only"]')).not_to_contain_text("kept summary")
    page.locator("[data-action=restore-draft]").click()
    expect(page.locator('.react-flow__node[data-id="only"]')).to_contain_text("kept summary")
    expect(offer).to_have_count(0)

    page.locator("[data-action=save]").click()
    expect(page.locator("[data-notice]")).to_contain_text("Saved version 2")
    base = page.url.split("/flows/")[0]  # read before the click: a fast navigation changes it
    page.locator("[data-nav=runs]").click()  # saved: nothing to ask, no draft left
    expect(page).to_have_url(f"{base}/runs")
    page.goto(f"/flows/edit/{path}")
    expect(page.locator('.react-flow__node[data-id="only"]')).to_contain_text("kept summary")
    page.wait_for_timeout(500)
    expect(page.locator("[data-draft-offer]")).to_have_count(0)
    assert [kind for kind, _ in asked].count("confirm") == 1


def test_closing_the_tab_asks_and_a_discarded_draft_is_gone(page, api):
    path = _flow(api)
    _open_and_edit(page, path, "draft to discard")
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.close(run_before_unload=True)
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"] and not page.is_closed()  # refused: the tab stays

    other = page.context.new_page()
    other.goto(f"/flows/edit/{path}")
    expect(other.locator("[data-draft-offer]")).to_contain_text("edited from version 1")
    other.locator("[data-action=discard-draft]").click()
    expect(other.locator("[data-draft-offer]")).to_have_count(0)
    other.goto("/runs")
    other.goto(f"/flows/edit/{path}")
    expect(other.locator('.react-flow__node[data-id="only"]')).to_be_visible()
    other.wait_for_timeout(500)
    expect(other.locator("[data-draft-offer]")).to_have_count(0)
