"""Upgrading keeps everything: the previous release's own code makes and fills a database,
then this release opens it (migrating it) and finds every run, flow, script, secret,
resource, schedule, user, token, session and setting. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from engine import Engine, Store, Vault
from engine.store import schema
from tests.app.server import ROOT
from tests.pg import pg_url  # noqa: F401  (pytest fixture)
from tests.store_fixtures import empty_url  # noqa: F401  (pytest fixture)

PREVIOUS_RELEASE = "43a2e5b1de3641e82152ece5b40cebde199dc4b3"
"""The last commit of main before migrations: its tables came from create_all."""
SECRET_KEY = "an upgrade test passphrase"

# Runs with the previous release's code (its engine and app packages): runs with steps
# and logs, a suspended run, two versions of a flow, a script, a secret variable, a
# resource, a schedule, users, tokens, a browser session, a webhook secret, an audit
# entry. Prints what the new code must find. (Module paths are that release's: app/ was flat.)
FILL = r"""
import asyncio, json, sys
from engine import Engine, Scheduler, Store, Vault
from app.accounts import Accounts, Caller
from app.auth import Credentials
from app.sessions import Sessions
from app import webhooks

url = sys.argv[1]
engine = Engine(store=Store.open(url))
store = engine.store
hello = {"id": "hello", "value": {"type": "rawscript", "language": "bash", "content": 'name="$1"\necho "hello from $name"\necho 42',
         "input_transforms": {"name": {"type": "javascript", "expr": "flow_input.name"}}}}
ask = {"id": "ask", "value": {"type": "identity"}, "suspend": {"required_events": 1}}
greet = {"summary": "greet", "value": {"modules": [hello]}, "schema": {"type": "object", "properties": {"name": {"type": "string"}}}}
store.save_flow("f/up/greet", {**greet, "summary": "first"}, "first")
store.save_flow("f/up/greet", greet, "greet", "alice")
store.save_script("f/up/double", "python3", "def main(x: int):\n    return 2 * x\n", summary="doubles")
done = asyncio.run(engine.run(greet, {"name": "before"}, path="f/up/greet"))
waiting = asyncio.run(engine.run({"value": {"modules": [hello, ask]}}, {"name": "approver"}, path="f/up/ask"))
vault = Vault(store)
vault.set_variable("f/up/password", "s3cret-before-upgrade", is_secret=True)
vault.set_resource("f/up/api", {"base_url": "https://api.example", "token": "tok-before"}, "http")
Scheduler(engine).save("f/up/nightly", schedule="0 2 * * *", timezone="Europe/Paris", script_path="f/up/greet",
                       args={"name": "night"})
credentials = Credentials(store.url)
accounts = Accounts(credentials)
accounts.create_user("alice", "alice-password", "operator")
accounts.create_user("root", "root-password", "admin")
token = accounts.create_token(Caller("alice", "operator"), "ci")
session = Sessions(credentials.engine).start("alice")
webhooks.set_secret(credentials, "f/up/greet", "whsec-before")
accounts.record("alice", "flow.saved", "f/up/greet", "before the upgrade")
asyncio.run(engine.close())
print(json.dumps({"done": done.run_id, "done_status": done.status, "done_result": done.result,
                  "waiting": waiting.run_id, "waiting_status": waiting.status, "token": token, "session": session}))
"""


@pytest.fixture(scope="module")
def previous_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The previous release's engine and app, as files in a folder of their own."""
    folder = tmp_path_factory.mktemp("previous-release")
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", PREVIOUS_RELEASE, "engine", "app"],
                             capture_output=True)
    if archive.returncode != 0:
        pytest.fail(f"this test needs the git history holding commit {PREVIOUS_RELEASE} (the release before "
                    f"migrations): {archive.stderr.decode(errors='replace').strip()}", pytrace=False)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def fill_with_previous_release(folder: Path, url: str, data_dir: Path) -> dict[str, Any]:
    """Run FILL with the previous release's code; what it printed."""
    # Its scripts run unsandboxed: that release's sandbox hid a checkout under /tmp (this
    # test's venv may be one), and what is tested here is the data, not the isolation.
    env = {**os.environ, "PYTHONPATH": str(folder), "MILLRACE_SECRET_KEY": SECRET_KEY,
           "MILLRACE_DATA_DIR": str(data_dir), "MILLRACE_SANDBOX": "off"}
    done = subprocess.run([sys.executable, "-c", FILL, url], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_upgrade_keeps_every_run_flow_secret_schedule_user_and_token(previous_release, empty_url, tmp_path,
                                                                         monkeypatch):
    made = fill_with_previous_release(previous_release, empty_url, tmp_path)
    assert (made["done_status"], made["waiting_status"]) == ("success", "suspended")
    monkeypatch.setenv("MILLRACE_SECRET_KEY", SECRET_KEY)
    with Store.open(empty_url) as store:
        with store.db.autocommit() as conn:
            assert schema.revision(conn) == schema.HEAD
        check_runs(store, made)
        check_catalog(store)
        check_app_tables(store, made)
        engine = Engine(store=store)
        assert engine.resume(made["waiting"], "r1", "root", {"ok": True}) == "approved"


def test_the_previous_release_made_its_database_without_a_schema_version(previous_release, tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    fill_with_previous_release(previous_release, url, tmp_path)
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert "alembic_version" not in tables and {"runs", "app_tokens", "app_sessions"} <= tables


def check_runs(store: Store, made: dict[str, Any]) -> None:
    done = store.get_run(made["done"])
    assert (done.status, done.path, done.args, done.result) == ("success", "f/up/greet", {"name": "before"},
                                                                 made["done_result"])
    assert done.result == 42
    assert store.load_steps(done.id)["hello"].status == "success"
    assert "hello from before" in [log.line for log in store.get_logs(done.id)]
    waiting = store.get_run(made["waiting"])
    assert waiting.status == "suspended"
    steps = store.load_steps(waiting.id)
    assert steps["hello"].status == "success"
    assert (steps["ask"].data["suspend"]["required"], steps["ask"].data["suspend"]["approvals"]) == (1, [])


def check_catalog(store: Store) -> None:
    versions = store.list_flow_versions("f/up/greet")
    assert [(v.version, v.summary, v.created_by) for v in versions] == [(2, "greet", "alice"), (1, "first", None)]
    assert versions[0].document["value"]["modules"][0]["id"] == "hello"
    script = store.get_script("f/up/double")
    assert (script.language, script.summary, script.content) == ("python3", "doubles",
                                                                 "def main(x: int):\n    return 2 * x\n")
    vault = Vault(store)
    assert store.get_variable_row("f/up/password").value != "s3cret-before-upgrade"  # still encrypted at rest
    assert vault.variable_value("f/up/password") == "s3cret-before-upgrade"
    assert vault.resource_value("f/up/api", reveal=True) == {"base_url": "https://api.example", "token": "tok-before"}
    nightly = store.get_schedule("f/up/nightly")
    assert (nightly.schedule, nightly.timezone, nightly.script_path, nightly.args, nightly.enabled, nightly.error) == (
        "0 2 * * *", "Europe/Paris", "f/up/greet", {"name": "night"}, True, None)


def check_app_tables(store: Store, made: dict[str, Any]) -> None:
    from app.services import webhooks
    from app.services.accounts import Accounts, Caller
    from app.services.auth import Credentials

    credentials = Credentials(store)
    accounts = Accounts(credentials)
    assert accounts.check_password("alice", "alice-password") == Caller("alice", "operator")
    assert accounts.check_password("root", "root-password") == Caller("root", "admin")
    assert accounts.check_password("alice", "wrong-password") is None
    assert accounts.caller(made["token"]) == Caller("alice", "operator")
    assert [t["token_prefix"] for t in accounts.list_tokens("alice")] == [made["token"][:10]]
    assert accounts.session_caller(made["session"]) == Caller("alice", "operator")
    assert webhooks.get_secret(credentials, "f/up/greet") == "whsec-before"
    assert [(e["actor"], e["detail"]) for e in accounts.audit(action="flow.saved")] == [("alice", "before the upgrade")]
