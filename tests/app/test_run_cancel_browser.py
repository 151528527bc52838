"""Canceling a run from its page and from the runs list: running, waiting for approval, queued."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.app.apikit import APPROVAL, W, ensure_flow, flow_body, py_step, wait_status

SLOW = flow_body("f/tests/slow_then_mark", [
    py_step("slow", "import time\n\ndef main(marker: str):\n    print('started', flush=True)\n"
                    "    time.sleep(6)\n    open(marker, 'w').write('slept')\n    return 1\n",
            marker="flow_input.marker"),
    py_step("after", "def main(marker: str):\n    open(marker + '.after', 'w').write('ran')\n    return 2\n",
            marker="flow_input.marker"),
], {"marker": {"type": "string"}})


def _start(api, path: str, args: dict) -> str:
    response = api.post(f"{W}/jobs/run/f/{path}", json=args)
    assert response.status_code == 201, response.text
    return response.text


def test_a_running_run_is_canceled_from_its_page_and_its_script_stops(page, api, tmp_path):
    marker = tmp_path / "slept"
    run_id = _start(api, ensure_flow(api, SLOW), {"marker": str(marker)})
    page.goto(f"/runs/{run_id}")
    expect(page.locator('[data-step="slow"] [data-status="running"]')).to_be_visible(timeout=20_000)
    page.locator("[data-action=cancel]").click()
    expect(page.locator('[data-status="canceled"]').first).to_be_visible()
    expect(page.locator("[data-action=cancel]")).to_have_count(0)
    assert api.get(f"{W}/jobs_u/get/{run_id}").json()["status"] == "canceled"
    time.sleep(7)  # past the end of the step's sleep: a script left running would write the marker
    assert not marker.exists() and not (tmp_path / "slept.after").exists()
    assert wait_status(api, run_id, {"success", "failure"}, timeout=1)["status"] == "canceled"


def test_a_waiting_run_is_canceled_from_the_runs_list_once(page, api):
    run_id = _start(api, ensure_flow(api, APPROVAL), {})
    assert wait_status(api, run_id, {"suspended"})["status"] == "suspended"
    page.goto("/runs")
    row = page.locator(f'[data-run-id="{run_id}"]')
    row.locator("[data-action=cancel]").click()
    expect(row.locator('[data-status="canceled"]')).to_be_visible()
    expect(row.locator("[data-action=cancel]")).to_have_count(0)
    again = api.post(f"{W}/jobs_u/queue/cancel/{run_id}")
    assert again.status_code == 400 and "is canceled: only a queued, running or suspended run can be canceled" in again.text
    time.sleep(1)
    assert api.get(f"{W}/jobs_u/get/{run_id}").json()["status"] == "canceled"


def test_the_rest_api_cancels_a_run_just_queued(api):
    ensure_flow(api, SLOW)
    missing = api.post(f"{W}/jobs_u/queue/cancel/no-such-run")
    assert missing.status_code == 404 and "no-such-run" in missing.text
    run_id = _start(api, "f/tests/slow_then_mark", {"marker": "/nonexistent/never"})
    canceled = api.post(f"{W}/jobs_u/queue/cancel/{run_id}")
    assert canceled.status_code == 200 and run_id in canceled.text
    assert wait_status(api, run_id, {"success", "failure"}, timeout=3)["status"] == "canceled"
