"""Fixtures for app tests: the real app on a real port, and Chromium driven by Playwright.

One server per test session (a fresh SQLite database under the session's tmp dir), so
tests share its data: give what a test creates a name of its own.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from tests.app.server import ADMIN_PASSWORD, Server, running_app

SESSION_COOKIE = "millrace_session"
"""`app.services.sessions.COOKIE` (not imported: tests of the running app import none of it)."""
LOGIN_PATH = "/api/session/login"

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


BLOCKED_LOOP = "a database call on the web server's event loop was refused"
"""What the app logs when a web handler forgot `off_loop` (app/services/offloop.py)."""


@pytest.fixture(scope="session")
def app_server() -> Iterator[Server]:
    """The app, built if needed and started, with `.url`, `.token` and `.db_url`.

    Its folder (database, key file) is outside pytest's temporary folder, which scripts
    see (tests/conftest.py): the app's own files stay out of the scripts' reach, as in
    production. Once the session is over, no handler any test reached may have blocked
    the web loop.
    """
    with tempfile.TemporaryDirectory(prefix="millrace-app-") as workdir:
        with running_app(Path(workdir)) as server:
            yield server
        log = server.log_path.read_text(errors="replace")
    assert BLOCKED_LOOP not in log, log[-8000:]


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


def log_in(url: str, username: str, password: str) -> str:
    """A session secret of `username`, from the login endpoint as a browser gets it."""
    response = httpx.post(f"{url}{LOGIN_PATH}", data={"username": username, "password": password, "next": "/"},
                          follow_redirects=False)
    assert response.status_code == 303 and "failed" not in response.headers["location"], response.headers
    return response.cookies[SESSION_COOKIE]


def session_cookie(url: str, secret: str) -> dict[str, Any]:
    """The session cookie as the login endpoint sets it, for `BrowserContext.add_cookies`."""
    return {"name": SESSION_COOKIE, "value": secret, "url": url, "httpOnly": True, "sameSite": "Lax"}


@pytest.fixture(scope="session")
def admin_session(app_server: Server) -> str:
    """One login of `admin` for the whole test session (its secret); never logged out."""
    return log_in(app_server.url, "admin", ADMIN_PASSWORD)


@pytest.fixture
def page(browser: Any, app_server: Server, admin_session: str) -> Iterator[Any]:
    """A page in a fresh browser context, logged in as admin, relative URLs resolved against the app."""
    context = browser.new_context(base_url=app_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    context.add_cookies([session_cookie(app_server.url, admin_session)])
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
