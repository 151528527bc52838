"""Fixtures for app tests: the real app on a real port, and Chromium driven by Playwright.

One server per test session (a fresh SQLite database under the session's tmp dir), so
tests share its data: give what a test creates a name of its own.
"""

from __future__ import annotations

from typing import Any, Iterator

import httpx
import pytest

from tests.app.server import Server, running_app

SESSION_COOKIE = "millrace_session"
"""`app.states.session.SESSION_COOKIE` (not imported: that would import Reflex states here)."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Playwright's sync API keeps an event loop running in the main thread while the
    # session's browser is open, and `run_until_complete` elsewhere then fails: so tests
    # that use the browser run last (the sort is stable, the rest keep their order).
    items.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))
    # Under `pytest -n ... --dist loadgroup` every app test goes to one worker: one
    # server and one frontend build instead of one per worker.
    if config.pluginmanager.hasplugin("xdist"):
        for item in items:
            if "tests/app/" in item.nodeid:
                item.add_marker(pytest.mark.xdist_group("app"))


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app, built if needed and started, with `.url`, `.token` and `.db_url`."""
    with running_app(tmp_path_factory.mktemp("app")) as server:
        yield server


@pytest.fixture(scope="session")
def api(app_server: Server) -> Iterator[httpx.Client]:
    """An HTTP client of the app, authenticated with the admin token."""
    headers = {"Authorization": f"Bearer {app_server.token}"}
    with httpx.Client(base_url=app_server.url, headers=headers, timeout=60) as client:
        yield client


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, app_server: Server) -> Iterator[Any]:
    """A page in a fresh browser context, logged in as admin, relative URLs resolved against the app."""
    context = browser.new_context(base_url=app_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    # The session cookie holds an API token: the admin token stands in for a login.
    context.add_cookies([{"name": SESSION_COOKIE, "value": app_server.token, "url": app_server.url}])
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def anonymous_page(browser: Any, app_server: Server) -> Iterator[Any]:
    """A page in a fresh browser context that has not logged in."""
    context = browser.new_context(base_url=app_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
