"""Logging in, API tokens and the audit log in a real Chromium."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.sync_api import expect

from tests.app.apikit import W
from tests.app.conftest import SESSION_COOKIE, log_in, session_cookie
from tests.app.server import ADMIN_PASSWORD


def test_pages_redirect_to_login_and_login_goes_where_the_user_was_going(anonymous_page, app_server):
    page = anonymous_page
    page.goto("/runs?status=failure")
    # (the static server may add a slash: /runs/?status=failure)
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fruns(%2F)?%3Fstatus%3Dfailure$"))
    page.locator("[data-field=username]").fill("admin")
    page.locator("[data-field=password]").fill("wrong password")
    page.locator("[data-action=log-in]").click()
    expect(page.locator("[data-problem=login]")).to_have_text("Wrong username or password.")
    page.locator("[data-field=username]").fill("admin")
    page.locator("[data-field=password]").fill(ADMIN_PASSWORD)
    page.locator("[data-action=log-in]").click()
    expect(page.get_by_role("heading", name="Runs")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/runs/?\?status=failure$"))
    expect(page.locator("[data-user=name]")).to_have_text("admin")
    cookie = next(c for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find(SESSION_COOKIE) == -1  # page scripts never see it


def test_log_out_ends_the_session_in_the_browser_and_on_the_server(browser, app_server):
    secret = log_in(app_server.url, "admin", ADMIN_PASSWORD)
    context = browser.new_context(base_url=app_server.url)
    context.set_default_timeout(10_000)
    context.add_cookies([session_cookie(app_server.url, secret)])
    page = context.new_page()
    try:
        page.goto("/flows")
        expect(page.get_by_role("heading", name="Flows")).to_be_visible()
        page.locator("[data-action=log-out]").click()
        expect(page).to_have_url(re.compile(r"/login/?$"))
        assert [c for c in context.cookies() if c["name"] == SESSION_COOKIE] == []
        context.add_cookies([session_cookie(app_server.url, secret)])  # the old secret, put back
        page.goto("/flows")
        expect(page).to_have_url(re.compile(r"/login\?next=%2Fflows(%2F)?$"))
    finally:
        context.close()


def test_token_created_on_the_page_is_shown_once_listed_and_usable(page, app_server):
    label = f"browser-{uuid.uuid4().hex[:6]}"
    page.goto("/tokens")
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    page.locator("[data-field=label]").fill(label)
    page.locator("[data-action=create-token]").click()
    shown = page.locator("[data-new-token]")
    expect(shown).to_be_visible()
    token = shown.inner_text().strip()
    row = page.locator(f'[data-token-prefix="{token[:10]}"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text(label)

    response = httpx.get(f"{app_server.url}{W}/flows/list", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200

    page.reload()
    expect(page.locator(f'[data-token-prefix="{token[:10]}"]')).to_have_count(1)
    expect(page.locator("[data-new-token]")).to_have_count(0)
    page.locator(f'[data-token-prefix="{token[:10]}"] [data-action=delete-token]').click()
    expect(page.locator(f'[data-token-prefix="{token[:10]}"]')).to_have_count(0)
    assert httpx.get(f"{app_server.url}{W}/flows/list", headers={"Authorization": f"Bearer {token}"}
                     ).status_code == 401


def test_audit_log_page_lists_token_creation_newest_first(page, api):
    label = f"audited-{uuid.uuid4().hex[:6]}"
    api.post("/api/users/tokens/create", json={"label": label})
    page.goto("/audit")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    first = page.locator("[data-table=audit] tbody tr").first
    expect(first).to_contain_text("token.created")
    expect(first).to_contain_text(label)


def test_the_login_page_says_when_logins_are_throttled(anonymous_page):
    anonymous_page.goto("/login?failed=throttled&wait=60&next=%2Fflows")
    expect(anonymous_page.locator("[data-problem=login]")).to_have_text("Too many failed logins, try again in 60 s.")
