"""Bad input and secrets in the browser: the import page refuses an alias bomb, and a run
page following a run live never receives a secret over its websocket."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.app.apikit import W, flow_body
from tests.app.test_masking_http import SECRET, _secret_input, _setup, _step
from tests.engine.test_openflow_yaml_bounds import billion_laughs

SLOW_LEAK = (
    "import time\n"
    "def main(x):\n"
    "    time.sleep(3)\n"
    "    print('connecting with', x)\n"
    "    return {'password': x}\n"
)


def test_the_import_page_refuses_an_alias_bomb_quickly(page, api):
    page.goto("/flows")
    page.locator("[data-action=import-flow]").click()
    dialog = page.locator("[data-dialog=import]")
    dialog.locator("[data-field=path]").fill("f/tests/laughs_page")
    dialog.locator("[data-field=flow-text]").fill(billion_laughs())
    started = time.monotonic()
    dialog.locator("[data-submit=import]").click()
    expect(dialog.locator("[data-problem=flows]")).to_contain_text("invalid YAML: its aliases expand", timeout=5000)
    assert time.monotonic() - started < 5
    assert api.get(f"{W}/flows/exists/f/tests/laughs_page").json() is False


def test_a_run_page_following_a_run_live_receives_only_masked_secrets(page, api):
    _setup(api)
    path = "f/tests/slow_leak"
    if api.get(f"{W}/flows/exists/{path}").json() is not True:
        body = flow_body(path, [_step("leak", SLOW_LEAK, x=_secret_input())])
        assert api.post(f"{W}/flows/create", json=body).status_code == 201
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: frames.append(str(frame))))
    run_id = api.post(f"{W}/jobs/run/f/{path}", json={}).text
    page.goto(f"/runs/{run_id}")
    expect(page.locator('[data-step="leak"] [data-status]')).to_have_attribute("data-status", "running")
    expect(page.locator('[data-step="leak"] [data-status]')).to_have_attribute("data-status", "success")
    expect(page.locator('[data-block="result"]')).to_contain_text('"password": "***"')
    expect(page.locator('[data-logs="leak"]')).to_contain_text("connecting with ***")
    assert frames and any("***" in frame for frame in frames)
    assert not any(SECRET in frame for frame in frames)
    assert SECRET not in page.content()
