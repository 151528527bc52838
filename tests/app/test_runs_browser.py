"""Runs: filters, the run page's timeline, re-run, and restart from a step inside a loop."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from engine import Store
from tests.app.apikit import DOUBLE, W, ensure_flow, flow_body, py_step, wait_status

RANDOM = "import random\n\ndef main(x=None):\n    return random.random()\n"
LOOPED = flow_body("f/tests/looped", [
    py_step("a", RANDOM),
    {"id": "l", "value": {"type": "forloopflow", "iterator": {"type": "javascript", "expr": "[1, 2, 3]"},
                          "modules": [py_step("s", RANDOM)]}},
    py_step("c", "def main(xs: list):\n    return len(xs)\n", xs="results.l"),
])
PARENT = flow_body("f/tests/parent", [
    {"id": "child", "value": {"type": "flow", "path": "f/tests/double",
                              "input_transforms": {"x": {"type": "static", "value": 4}}}}])


@pytest.fixture(scope="module")
def store(app_server):
    opened = Store.open(app_server.db_url)
    yield opened
    opened.close()


def _run(api, path: str, args: dict) -> str:
    run_id = api.post(f"{W}/jobs/run/f/{path}", json=args).text
    wait_status(api, run_id, {"success", "failure"})
    return run_id


def test_run_page_draws_a_bar_per_step_and_iteration_and_restarts_inside_the_loop(page, api, store):
    run_id = _run(api, ensure_flow(api, LOOPED), {})
    page.goto(f"/runs/{run_id}")
    for key in ("a", "l", "l/0/s", "l/1/s", "l/2/s", "c"):
        expect(page.locator(f'[data-bar="{key}"]')).to_have_attribute("data-status", "success")

    page.locator("[data-field=restart-from]").click()
    page.get_by_role("option", name="l/1/s").click()
    page.locator("[data-action=restart]").click()
    expect(page).not_to_have_url(re.compile(f"/runs/{run_id}$"))
    new_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    expect(page.locator('[data-step="c"] [data-status]')).to_have_attribute("data-status", "success")
    expect(page.get_by_text("Restarted from run")).to_be_visible()

    old, new = store.load_steps(run_id), store.load_steps(new_id)
    assert new["a"].result == old["a"].result and new["l/0/s"].result == old["l/0/s"].result
    assert new["l/1/s"].result != old["l/1/s"].result and new["l/2/s"].result != old["l/2/s"].result
    assert wait_status(api, new_id, {"success", "failure"})["result"] == 3  # the run ends just after its last step
    assert store.get_run(new_id).state["started_by"] == "admin"


def test_rerun_starts_a_new_run_with_the_same_args(page, api, store):
    run_id = _run(api, ensure_flow(api, DOUBLE), {"x": 7})
    page.goto(f"/runs/{run_id}")
    page.locator("[data-action=rerun]").click()
    expect(page).not_to_have_url(re.compile(f"/runs/{run_id}$"))
    expect(page.locator('[data-block="result"]')).to_contain_text('"doubled": 14')
    new_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert store.get_run(new_id).args == {"x": 7}
    assert store.get_run(new_id).state["started_by"] == "admin"  # the logged-in user: its token acts for them


def test_runs_filter_by_flow_and_status_and_hide_subflow_runs(page, api, store):
    ensure_flow(api, DOUBLE)
    good = _run(api, "f/tests/double", {"x": 1})
    parent = _run(api, ensure_flow(api, PARENT), {})
    child = next(run.id for run in store.list_runs(parent_run_id=parent))

    page.goto("/runs")
    expect(page.locator(f'[data-run-id="{parent}"]')).to_be_visible()
    expect(page.locator(f'[data-run-id="{child}"]')).to_have_count(0)
    page.locator("[data-filter=subflows]").click()
    expect(page.locator(f'[data-run-id="{child}"]')).to_be_visible()

    page.locator("[data-filter=flow]").click()
    page.get_by_role("option", name="f/tests/double").click()
    expect(page.locator(f'[data-run-id="{parent}"]')).to_have_count(0)
    expect(page.locator(f'[data-run-id="{good}"]')).to_be_visible()
    expect(page.locator(f'[data-run-id="{child}"]')).to_be_visible()

    page.locator("[data-filter=status]").click()
    page.get_by_role("option", name="failure").click()
    expect(page.locator(f'[data-run-id="{good}"]')).to_have_count(0)
    page.locator("[data-filter=status]").click()
    page.get_by_role("option", name="success").click()
    expect(page.locator(f'[data-run-id="{good}"]')).to_be_visible()

    page.locator("[data-filter=since]").click()
    page.get_by_role("option", name="last hour").click()
    expect(page.locator(f'[data-run-id="{good}"]')).to_be_visible()
    store.update_run(good, created_at=1_000.0)  # long ago
    page.locator("[data-filter=since]").click()
    page.get_by_role("option", name="last 24 h").click()
    expect(page.locator(f'[data-run-id="{good}"]')).to_have_count(0)
