"""The editor's version history in a real Chromium: every save is a version, and any two
versions compare as a coloured line diff of their YAML."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.app.test_editor_browser import ARTIFACTS, new_flow, open_editor


def save(page, version: int) -> None:
    page.locator("[data-action=save]").click()
    expect(page.locator("[data-notice]")).to_contain_text(f"Saved version {version}")


def test_two_saves_diff_shows_the_changed_line_removed_then_added(page, api):
    path = new_flow(api)  # version 1
    open_editor(page, path)
    page.locator("[data-view=schema]").click()
    page.locator("[data-action=add-field]").click()
    description = page.locator('input[data-field-description="0"]')
    description.fill("first words")
    expect(page.locator("[data-schema-json]")).to_contain_text("first words")
    save(page, 2)
    description.fill("second words")
    expect(page.locator("[data-schema-json]")).to_contain_text("second words")
    save(page, 3)

    page.locator("[data-view=history]").click()
    expect(page.locator("[data-version]")).to_have_count(3)
    page.locator('[data-diff-from="2"]').click()
    page.locator('[data-diff-to="3"]').click()
    removed, added = page.locator("[data-diff-line=removed]"), page.locator("[data-diff-line=added]")
    expect(removed).to_have_count(1)
    expect(removed).to_contain_text("description: first words")
    expect(added).to_have_count(1)
    expect(added).to_contain_text("description: second words")
    background = "el => getComputedStyle(el).backgroundColor"
    same = page.locator("[data-diff-line=same]").first.evaluate(background)
    assert len({removed.evaluate(background), added.evaluate(background), same}) == 3
    page.screenshot(path=str(ARTIFACTS / "editor-history.png"))
    expect(page.locator("[data-diff-summary]")).to_have_text("+1 −1")

    page.locator('[data-diff-from="1"]').click()
    expect(added.filter(has_text="field_1:")).to_have_count(1)
    expect(page.locator("[data-diff]")).not_to_contain_text("first words")

    page.locator('[data-restore="2"]').click()
    expect(page.locator("[data-notice]")).to_contain_text("Loaded version 2")
    page.locator("[data-view=schema]").click()
    expect(description).to_have_value("first words")
