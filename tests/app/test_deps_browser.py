"""The script page and the flow editor's step panel show the saved lock, read-only."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.app.apikit import W, ensure_flow, flow_body

SIX_15 = "# py311\nsix==1.15.0\n"
USES_SIX = "import six\n\ndef main():\n    return six.__version__\n"


def test_the_script_page_shows_the_lock_of_the_saved_version(page, api):
    assert api.post(f"{W}/scripts/create", json={"path": "f/deps/shown_lock", "language": "python3",
                                                 "content": USES_SIX, "lock": SIX_15}).status_code == 201
    page.goto("/scripts/edit/f/deps/shown_lock")
    expect(page.locator("[data-block=script-lock]")).to_contain_text("six==1.15.0")
    assert api.post(f"{W}/scripts/create", json={"path": "f/deps/no_lock", "language": "python3",
                                                 "content": "import json\ndef main():\n    return 1\n"}).status_code == 201
    page.goto("/scripts/edit/f/deps/no_lock")
    expect(page.locator("[data-block=script-lock-none]")).to_be_visible()


def test_the_flow_editor_shows_a_steps_lock(page, api):
    step = {"id": "a", "value": {"type": "rawscript", "language": "python3", "content": USES_SIX,
                                 "input_transforms": {}}}
    path = ensure_flow(api, flow_body("f/deps/editor_lock", [step]))
    page.goto(f"/flows/edit/{path}")
    page.locator('.react-flow__node[data-id="a"]').click()
    expect(page.locator("[data-block=step-lock]")).to_contain_text("six==")
