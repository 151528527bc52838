"""A SQL step's database is picked in the run form from the workspace's postgresql
resources, and the run queries that real database."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from playwright.sync_api import expect

from tests.app.apikit import W
from tests.pg import pg_database, pg_url  # noqa: F401  (pytest fixtures)

FLOW = {
    "path": "f/tests/sql_picker",
    "summary": "Which database",
    "value": {"modules": [{"id": "ask", "value": {
        "type": "rawscript", "language": "postgresql",
        "content": "-- $1 word\nSELECT current_database() AS db, upper($1::TEXT) AS word",
        "input_transforms": {"database": {"type": "javascript", "expr": "flow_input.db"},
                             "word": {"type": "javascript", "expr": "flow_input.word"}}}}]},
    "schema": {"type": "object", "order": ["db", "word"], "required": ["db", "word"],
               "properties": {"db": {"type": "object", "format": "resource-postgresql"},
                              "word": {"type": "string"}}},
}


def test_the_run_form_picks_a_postgresql_resource_and_the_step_queries_it(page, api, pg_database):
    url = urlparse(pg_database)
    value = {"host": url.hostname, "port": url.port, "user": url.username, "dbname": url.path[1:]}
    for path in ("u/admin/picked_db", "u/admin/other_db"):
        response = api.post(f"{W}/resources/create", json={"path": path, "resource_type": "postgresql", "value": value})
        assert response.status_code in (200, 201), response.text
    assert api.post(f"{W}/flows/create", json=FLOW).status_code in (200, 201)
    try:
        _pick_and_run(page, value["dbname"])
    finally:  # other tests list the session's postgresql resources
        for path in ("u/admin/picked_db", "u/admin/other_db"):
            api.delete(f"{W}/resources/delete/{path}")


def _pick_and_run(page, dbname: str) -> None:
    page.goto(f"/flows/run/{FLOW['path']}")
    form = page.locator("[data-form=flow-args]")
    picker = form.locator('[data-field="db"]')
    expect(picker).to_have_attribute("data-kind", "resource")
    expect(picker).to_contain_text("postgresql resource")
    form.locator('[data-field="word"] input').fill("hello")
    form.locator("[data-submit=flow-args]").click()
    expect(form.locator('[data-field-error="db"]')).to_have_text("is required")

    picker.locator("button[role=combobox]").click()
    page.get_by_role("option", name="u/admin/picked_db", exact=True).click()
    form.locator("[data-submit=flow-args]").click()

    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f]{32}$"))
    expect(page.locator('[data-step="ask"] [data-status]')).to_have_attribute("data-status", "success")
    expect(page.locator('[data-block="result"]')).to_contain_text(f'"db": "{dbname}"')
    expect(page.locator('[data-block="result"]')).to_contain_text('"word": "HELLO"')
    expect(page.locator('[data-block="args"]')).to_contain_text('"db": "$res:u/admin/picked_db"')
