"""Runs carry their trigger: the runs list filters by it, Home counts real runs only (no
editor previews), and Home's charts name every flow."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from engine import Store
from tests.app.apikit import W, ensure_flow, flow_body, py_step, wait_status

OK = "def main():\n    return 1\n"


@pytest.fixture(scope="module")
def store(app_server):
    opened = Store.open(app_server.db_url)
    yield opened
    opened.close()


def _flow(api, name: str) -> str:
    return ensure_flow(api, flow_body(f"f/tests/{name}", [py_step("only", OK)]))


def _run(api, path: str) -> str:
    run_id = api.post(f"{W}/jobs/run/f/{path}", json={}).text
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
    return run_id


def _preview_failure(store: Store, path: str) -> str:
    """A finished editor preview that failed at step `only` (as the editor's Test flow records it)."""
    run = store.create_run(kind="flow", path=path, trigger="preview", status="running", flow={"modules": []})
    store.finish_run(run.id, "failure", error={"name": "ValueError", "message": "tried", "step_id": "only"})
    return run.id


def test_home_counts_real_runs_only_and_the_runs_list_filters_by_trigger(page, api, store):
    path = _flow(api, f"triggered_{uuid.uuid4().hex[:6]}")
    real = _run(api, path)
    preview = _preview_failure(store, path)

    page.goto("/")
    expect(page.locator(f'[data-flow-stat="{path}"] td').nth(2)).to_have_text("100%")  # the preview failed
    expect(page.locator(f'[data-flow-stat="{path}"] td').nth(1)).to_have_text("1")
    expect(page.locator(f'[data-failure="{path}:only"]')).to_have_count(0)
    expect(page.locator(f'[data-run-id="{preview}"]')).to_have_count(0)
    real_count = store.count_runs(top_level=True) - store.count_runs(top_level=True, trigger="preview")
    expect(page.locator("[data-stat=runs]")).to_have_text(str(real_count))

    page.goto(f"/runs?flow={path}")
    expect(page.locator(f'[data-run-id="{real}"]')).to_contain_text("webhook")
    expect(page.locator(f'[data-run-id="{preview}"]')).to_have_count(0)
    page.locator("[data-filter=trigger]").click()
    page.get_by_role("option", name="editor preview").click()
    expect(page.locator(f'[data-run-id="{preview}"]')).to_contain_text("editor preview")
    expect(page.locator(f'[data-run-id="{real}"]')).to_have_count(0)
    page.locator("[data-filter=trigger]").click()
    page.get_by_role("option", name="any trigger").click()
    expect(page.locator(f'[data-run-id="{real}"]')).to_be_visible()
    expect(page.locator(f'[data-run-id="{preview}"]')).to_be_visible()


def test_home_charts_name_every_flow(page, api):
    paths = [_flow(api, f"chart_{index}_sync_orders") for index in range(9)]
    for path in paths:
        _run(api, path)
    page.goto("/")
    for chart in ("success_rate", "p95"):
        ticks = page.locator(f"[data-chart={chart}] .recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value")
        expect(ticks.first).to_be_visible()
        named = set(ticks.all_text_contents())
        assert set(paths) <= named, sorted(set(paths) - named)
