"""The web app keeps the REST API's roles: operators run and read, admins change; both are audited."""

from __future__ import annotations

import re
import uuid
from typing import Any, Iterator

import httpx
import pytest
from playwright.sync_api import expect

from tests.app.apikit import DOUBLE, W, ensure_flow, flow_body, py_step, wait_status
from tests.app.conftest import log_in, session_cookie


@pytest.fixture
def operator_page(browser: Any, app_server: Any, api: httpx.Client) -> Iterator[Any]:
    """A page logged in as a new operator."""
    name, password = f"op-{uuid.uuid4().hex[:6]}", "operator-password"
    created = api.post("/api/users/create", json={"username": name, "password": password, "role": "operator"})
    assert created.status_code == 201, created.text
    context = browser.new_context(base_url=app_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    context.add_cookies([session_cookie(app_server.url, log_in(app_server.url, name, password))])
    page = context.new_page()
    page.operator = name
    yield page
    context.close()


def _own_flow(api: httpx.Client, label: str) -> tuple[str, dict[str, Any]]:
    path = f"f/tests/roles_{label}_{uuid.uuid4().hex[:6]}"
    ensure_flow(api, flow_body(path, [py_step("a", "def main():\n    return 1\n")]))
    return path, api.get(f"{W}/flows/get/{path}").json()


def test_an_operator_may_not_delete_a_flow(operator_page, api):
    page = operator_page
    path, before = _own_flow(api, "delete")
    page.goto("/flows")
    page.locator(f'[data-flow-path="{path}"] [data-action=delete]').click()
    page.locator("[data-dialog=delete] [data-submit=delete]").click()
    expect(page.locator("[data-sonner-toast]")).to_contain_text(
        f"Only admins may delete flows; {page.operator} is an operator.")
    assert api.get(f"{W}/flows/get/{path}").json() == before


def test_an_operator_may_not_save_in_the_editor(operator_page, api):
    page = operator_page
    path, before = _own_flow(api, "save")
    page.goto(f"/flows/edit/{path}")
    page.locator("[data-action=save]").click()
    expect(page.locator("[data-sonner-toast]")).to_contain_text(
        f"Only admins may save flows; {page.operator} is an operator.")
    assert api.get(f"{W}/flows/get/{path}").json() == before


def test_an_operator_runs_a_flow_from_its_form_and_the_run_is_audited_in_their_name(operator_page, api):
    page = operator_page
    path = ensure_flow(api, DOUBLE)
    page.goto(f"/flows/run/{path}")
    form = page.locator("[data-form=flow-args]")
    form.locator('[data-field="x"] input').fill("21")
    form.locator("[data-submit=flow-args]").click()
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]+$"))
    run_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "success"
    started = api.get(f"{W}/audit/list", params={"operation": "run.started"}).json()
    assert any(e["username"] == page.operator and e["parameters"] == run_id for e in started), started


def test_an_admins_save_from_the_editor_is_audited_in_their_name(page, api):
    path, _ = _own_flow(api, "audit")
    page.goto(f"/flows/edit/{path}")
    page.locator("[data-action=save]").click()
    expect(page.locator("[data-notice]")).to_contain_text("Saved version 2")
    saved = api.get(f"{W}/audit/list", params={"operation": "flow.saved"}).json()
    assert any(e["username"] == "admin" and e["resource"] == path and e["parameters"] == "version 2"
               for e in saved), saved[:5]
