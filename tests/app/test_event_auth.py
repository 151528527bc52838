"""Every web event handler is refused without a session, and admin-only ones to operators.

The handlers are found by walking the app's state tree (a handler added later is
covered without editing this file) and sent over a raw websocket to the running app,
with arguments made from their signatures, so that a handler that would run does run.
Marker strings planted in a flow, a script, a run's result, a variable, a resource and
the audit log must never come back, and the store must be unchanged afterwards.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy

from app.states import guard
from reflex.state import State
from tests.app.apikit import W
from tests.app.conftest import log_in
from tests.app.handlers import (ADMIN_HANDLERS, APP_HANDLERS, HANDLERS, Planted, arguments, full_name, state_named,
                                takes_files, upload)
from tests.app.eventsocket import EventSocket, redirects_to_login, refused_as_operator

EVENT_TIMEOUT = 10.0


@pytest.fixture(scope="module")
def planted(api: httpx.Client) -> Planted:
    return Planted(api)


@pytest.fixture(scope="module")
def operator(app_server: Any, api: httpx.Client) -> tuple[str, str]:
    """A new operator and a session of theirs (name, secret)."""
    name, password = f"op-{uuid.uuid4().hex[:6]}", "operator-password"
    assert api.post("/api/users/create", json={"username": name, "password": password, "role": "operator"}
                    ).status_code == 201
    return name, log_in(app_server.url, name, password)


def store_fingerprint(db_url: str) -> dict[str, Any]:
    """What the handlers could change: row counts and the mutable columns of small tables."""
    engine = sqlalchemy.create_engine(db_url)
    queries = {
        "runs": "SELECT count(*) FROM runs WHERE trigger != 'schedule'",
        "flows": "SELECT count(*) FROM flow_versions", "scripts": "SELECT count(*) FROM script_versions",
        "schedules": "SELECT path, enabled, schedule FROM schedules ORDER BY path",
        "variables": "SELECT path, value FROM variables ORDER BY path",
        "resources": "SELECT path, value FROM resources ORDER BY path",
        "resource_types": "SELECT count(*) FROM resource_types",
        "tokens": "SELECT count(*) FROM app_tokens", "users": "SELECT username, role FROM app_users",
        "audit": "SELECT count(*) FROM app_audit", "sessions": "SELECT count(*) FROM app_sessions",
    }
    try:
        with engine.connect() as connection:
            return {name: [tuple(row) for row in connection.execute(sqlalchemy.text(sql))]
                    for name, sql in queries.items()}
    finally:
        engine.dispose()


def test_the_walk_finds_the_pages_handlers_and_only_the_login_page_is_open() -> None:
    names = {(cls.__name__, name) for cls, name, _ in APP_HANDLERS}
    assert {("FlowsState", "delete"), ("EditorPreviewState", "run_preview"), ("TokensState", "create"),
            ("ScriptEditorState", "submit"), ("RunState", "rerun")} <= names
    assert len(APP_HANDLERS) > 100
    opened = {(cls.__name__, name) for cls, name, h in HANDLERS if guard.is_open(h.fn)}
    assert opened == {("LoginState", "load")}
    marked = {f"{cls.__name__}.{name}" for cls, name, _ in ADMIN_HANDLERS}
    assert {"EditorState.save", "FlowsState.create", "FlowsState.import_flow", "FlowsState.duplicate",
            "FlowsState.delete", "ResourceTypesState.create", "ResourcesState.save_fields", "ResourcesState.save_raw",
            "ResourcesState.delete", "SchedulesState.save", "SchedulesState.toggle", "SchedulesState.delete",
            "ScriptEditorState.save", "ScriptsState.create", "TokensState.create", "TokensState.delete",
            "VariablesState.save", "VariablesState.delete"} <= marked


def test_no_handler_acts_or_answers_page_data_without_a_session(app_server, planted) -> None:
    before = store_fingerprint(app_server.db_url)
    sent = [(cls, name, h) for cls, name, h in APP_HANDLERS if not takes_files(h)]
    with EventSocket(app_server.url) as socket:
        for count, (cls, name, handler) in enumerate(sent, 1):
            socket.send(full_name(cls, name), arguments(handler, planted), planted.page_of(cls))
            socket.wait_until(lambda: socket.count(redirects_to_login) >= count, EVENT_TIMEOUT,
                              f"{cls.__name__}.{name} to be refused")
        for cls, name, handler in APP_HANDLERS:
            if takes_files(handler):
                answer = upload(app_server.url, socket.token, full_name(cls, name), planted.markers["flow"])
                assert planted.leaked(answer) == [], (cls.__name__, name, answer)
        socket.drain(2.0)  # whatever a handler that did run would still send
        assert planted.leaked(socket.text()) == []
    assert store_fingerprint(app_server.db_url) == before


def test_admin_only_handlers_refuse_an_operator_who_can_read(app_server, planted, operator) -> None:
    name, secret = operator
    before = store_fingerprint(app_server.db_url)
    with EventSocket(app_server.url, session=secret) as socket:
        for count, (cls, handler_name, handler) in enumerate(ADMIN_HANDLERS, 1):
            socket.send(full_name(cls, handler_name), arguments(handler, planted), planted.page_of(cls))
            socket.wait_until(lambda: socket.count(refused_as_operator) >= count, EVENT_TIMEOUT,
                              f"{cls.__name__}.{handler_name} to be refused")
        socket.drain(1.0)
        assert socket.count(refused_as_operator) == len(ADMIN_HANDLERS)
        assert socket.count(lambda text: f"{name} is an operator" in text) == len(ADMIN_HANDLERS)
    assert store_fingerprint(app_server.db_url) == before
    with EventSocket(app_server.url, session=secret) as socket:  # the session itself is good
        socket.send(full_name(state_named("FlowsState"), "load"), page="/flows")
        socket.wait_until(lambda: planted.markers["flow"] in socket.text(), EVENT_TIMEOUT, "the flows list")


PAGE_LOADS = [("FlowsState", "/flows"), ("AuditState", "/audit"), ("TokensState", "/tokens"),
              ("VariablesState", "/variables"), ("ResourcesState", "/resources"), ("ScriptsState", "/scripts")]


def test_a_hydrate_without_a_session_sends_no_page_data(app_server, planted, admin_session) -> None:
    with EventSocket(app_server.url, session=admin_session) as tab:  # a tab that loaded page data
        for state, page in PAGE_LOADS + [("RunState", f"/runs/{planted.run_id}"),
                                         ("EditorState", f"/flows/edit/{planted.flow}")]:
            tab.send(full_name(state_named(state), "load"), page=page)
        tab.wait_until(lambda: set(planted.leaked(tab.text())) == set(planted.markers.values()) - {
            planted.markers["script"]}, EVENT_TIMEOUT, "every page's data")
        assert admin_session not in tab.text()  # the cookie stays on the server (router headers omit it)
        # A tab's events are handled in order: once this one is answered, every load has
        # ended (the editor's may still be reading when the flows page's data shows the marker).
        tab.round_trip(EVENT_TIMEOUT)
    for token in (tab.token, None):  # the same tab after its session, and a new one
        with EventSocket(app_server.url, token=token) as socket:
            socket.send(full_name(State, "hydrate_and_load"), page="/flows")
            socket.wait_until(lambda: socket.count(redirects_to_login) >= 2, EVENT_TIMEOUT, "the loads' refusal")
            socket.drain(1.0)
            assert planted.leaked(socket.text()) == []
            assert '"is_hydrated' in socket.text()  # the snapshot did come, empty


def test_an_api_token_is_no_session_and_a_session_is_no_api_token(app_server, planted, admin_session) -> None:
    with EventSocket(app_server.url, session=app_server.token) as socket:
        socket.send(full_name(state_named("FlowsState"), "load"), page="/flows")
        socket.wait_until(lambda: socket.count(redirects_to_login) >= 1, EVENT_TIMEOUT, "the refusal")
        assert planted.leaked(socket.text()) == []
    refused = httpx.get(f"{app_server.url}{W}/flows/list", headers={"Authorization": f"Bearer {admin_session}"})
    assert refused.status_code == 401
    assert httpx.get(f"{app_server.url}/api/users/whoami", params={"token": admin_session}).status_code == 401


def test_a_session_cookie_sent_from_another_origin_is_refused(app_server, planted, admin_session) -> None:
    port = app_server.url.rsplit(":", 1)[1]
    with EventSocket(app_server.url, session=admin_session, origin=f"http://127.0.0.1:{int(port) + 1}") as socket:
        socket.send(full_name(state_named("FlowsState"), "load"), page="/flows")
        socket.wait_until(lambda: socket.count(redirects_to_login) >= 1, EVENT_TIMEOUT, "the refusal")
        assert planted.leaked(socket.text()) == []
    # This client's Host header is the bare hostname (a browser's carries the port too).
    with EventSocket(app_server.url, session=admin_session, origin="http://127.0.0.1") as socket:
        socket.send(full_name(state_named("FlowsState"), "load"), page="/flows")
        socket.wait_until(lambda: planted.markers["flow"] in socket.text(), EVENT_TIMEOUT, "the flows list")


def test_previews_and_script_runs_are_audited_in_the_users_name(app_server, api, planted, operator) -> None:
    name, secret = operator
    editor, scripts = state_named("EditorState"), state_named("ScriptEditorState")
    panel, preview = state_named("EditorPanelState"), state_named("EditorPreviewState")
    with EventSocket(app_server.url, session=secret) as socket:
        socket.send(full_name(editor, "load"), page=f"/flows/edit/{planted.flow}")
        socket.send(full_name(panel, "select"), {"step_id": "a"}, page=f"/flows/edit/{planted.flow}")
        for count, mode in enumerate(("flow", "step", "upto"), 1):
            socket.send(full_name(preview, "run_preview"), {"mode": mode}, page=f"/flows/edit/{planted.flow}")
            socket.wait_until(lambda: _audited(api, name, f"({mode} preview)"), EVENT_TIMEOUT, f"a {mode} preview")
            # The editor starts no preview while one runs: wait for this one's end.
            socket.wait_until(lambda: socket.count(lambda text: '"preview_running_rx_state_":false' in text) >= count,
                              EVENT_TIMEOUT, f"the {mode} preview to end")
        socket.send(full_name(scripts, "load"), page=f"/scripts/edit/{planted.script}")
        socket.send(full_name(scripts, "submit"), {"form_data": {}}, page=f"/scripts/edit/{planted.script}")
        socket.wait_until(lambda: _audited(api, name, "", resource=planted.script), EVENT_TIMEOUT, "the script run")


def _audited(api: httpx.Client, username: str, detail: str, resource: str | None = None) -> bool:
    entries = api.get(f"{W}/audit/list", params={"operation": "run.started", "per_page": "50"}).json()
    return any(e["username"] == username and detail in e["parameters"] and resource in (None, e["resource"])
               for e in entries)
