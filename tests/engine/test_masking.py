"""Secrets are masked in everything a run shows (log lines of every stream, events,
results, errors and stacks), while the steps of the run still get the real values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import Store
from engine.masking import MASK, Masker
from engine.vault import Vault
from tests.flowkit import bash, flow, py

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-value-42"
PASSWORD = "hunter2-in-clear"
TOKEN = "tok-from-a-plain-variable"

LEAK = (
    "import sys\n"
    "def main(x):\n"
    "    print('out', x)\n"
    "    print('err', x, file=sys.stderr)\n"
    "    return {'value': x, x: 'as a key', 'nested': [x + '!']}\n"
)
FAIL = "def main(x):\n    raise RuntimeError('cannot log in with ' + x)\n"


@pytest.fixture
def vault(harness, monkeypatch):
    monkeypatch.setenv("MILLRACE_SECRET_KEY", "test key")
    vault = Vault.of(harness.engine.store)
    vault.set_variable("u/admin/pw", SECRET, is_secret=True)
    vault.set_variable("u/admin/plain_token", TOKEN)
    vault.set_variable("u/admin/short", "ab", is_secret=True)
    vault.set_resource("u/admin/db", {"host": "db.internal", "dbname": "app", "password": PASSWORD},
                       "postgresql")
    vault.set_resource("u/admin/api", {"base_url": "http://api.internal", "token": "$var:u/admin/plain_token"},
                       "http")
    return vault


def _collect(harness):
    events = []
    harness.engine.events.add_listener(events.append)
    return events


def _shown(harness, run_id):
    """Everything the shown store gives of a run, as one text."""
    shown = harness.engine.shown_store
    run = shown.get_run(run_id)
    steps = shown.load_steps(run_id)
    logs = shown.get_logs(run_id, limit=1000)
    return json.dumps([run.result, run.error, [[s.result, s.error, s.data] for s in steps.values()],
                       [line.line for line in logs]])


@pytest.mark.parametrize("secret", [SECRET, PASSWORD, TOKEN], ids=["variable", "resource-field", "resource-ref"])
def test_a_secret_is_masked_in_logs_events_and_shown_results_but_reaches_the_next_step(harness, vault, secret):
    events = _collect(harness)
    document = flow(py("leak", LEAK, x=secret), py("next", "def main(v):\n    return len(v)\n", v="js:results.leak.value"))
    outcome = harness.run(document)
    assert outcome.status == "success"
    assert outcome.result == len(secret)  # the next step got the real value
    stored = harness.engine.store.load_steps(outcome.run_id)["leak"].result
    assert stored["value"] == secret  # kept as it is, for later steps after a restart
    assert harness.engine.store.load_steps(outcome.run_id)["leak"].data["args"] == {"x": secret}
    assert harness.engine.shown_store.load_steps(outcome.run_id)["leak"].data["args"] == {"x": MASK}

    lines = [line.line for line in harness.engine.store.get_logs(outcome.run_id, limit=100)]
    assert lines == [f"out {MASK}", f"err {MASK}"]
    sent = json.dumps([event.to_dict() for event in events])
    assert secret not in sent and MASK in sent
    shown = _shown(harness, outcome.run_id)
    assert secret not in shown
    assert f'"{MASK}": "as a key"' in shown and f'"{MASK}!"' in shown


def test_a_bash_step_is_masked_too(harness, vault):
    outcome = harness.run(flow(bash("b", 'x="$1"\necho "token=$x" >&2\necho "\\"$x\\""\n', x=SECRET)))
    assert outcome.result == SECRET
    assert [line.line for line in harness.engine.shown_store.get_logs(outcome.run_id, limit=10)] == \
        [f"token={MASK}", f'"{MASK}"']
    assert harness.engine.shown_store.get_run(outcome.run_id).result == MASK


def test_errors_and_stacks_are_masked_where_shown(harness, vault):
    events = _collect(harness)
    outcome = harness.run(flow(py("login", FAIL, x=SECRET)))
    assert outcome.status == "failure"
    raw = harness.engine.store.get_run(outcome.run_id).error
    assert SECRET in raw["message"] and SECRET in raw["stack"]
    shown = harness.engine.shown_store.get_run(outcome.run_id).error
    assert shown["message"] == f"cannot log in with {MASK}"
    assert SECRET not in shown["stack"] and MASK in shown["stack"]
    assert SECRET not in _shown(harness, outcome.run_id)
    finished = [e for e in events if e.kind in ("step_finished", "run_finished")]
    assert finished and all(SECRET not in json.dumps(e.data) for e in finished)


def test_a_result_after_an_approval_is_the_real_value(harness, vault):
    ask = py("ask", "def main(x):\n    return {'pw': x}\n", x=SECRET)
    ask["suspend"] = {"required_events": 1}
    document = flow(ask, py("use", "def main(pw):\n    return pw == " + repr(SECRET) + "\n", pw="js:results.ask.pw"))
    outcome = harness.run(document)
    assert outcome.status == "suspended"
    restarted = harness.new()
    restarted.resume(outcome.run_id, "r1", "ada", None)
    done = harness.call(restarted.drive(outcome.run_id))
    assert (done.status, done.result) == ("success", True)


def test_a_secret_saved_while_the_engine_runs_is_masked_at_once(harness, vault):
    printing = flow(py("a", "def main():\n    print('brand-new-secret')\n    return 1\n"))
    before = harness.run(printing)  # the engine has read the secrets it masks
    assert [line.line for line in harness.engine.store.get_logs(before.run_id, limit=10)] == ["brand-new-secret"]
    vault.set_variable("u/admin/new", "brand-new-secret", is_secret=True)
    after = harness.run(printing)
    assert [line.line for line in harness.engine.store.get_logs(after.run_id, limit=10)] == [MASK]


def test_short_secrets_and_plain_fields_are_not_masked(harness, vault):
    outcome = harness.run(flow(py("a", "def main():\n    print('ab db.internal')\n    return 'ab'\n")))
    assert [line.line for line in harness.engine.store.get_logs(outcome.run_id, limit=10)] == ["ab db.internal"]
    assert harness.engine.shown_store.get_run(outcome.run_id).result == "ab"


def test_a_longer_secret_is_masked_before_a_secret_inside_it():
    masker = Masker(lambda: ["abc", "xxabcxx"])
    assert masker.text("xxabcxx and abc") == f"{MASK} and {MASK}"


def test_the_cli_shows_results_status_and_logs_masked(tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MILLRACE_SECRET_KEY": "cli key"}
    env.pop("DATABASE_URL", None)
    os.environ["MILLRACE_SECRET_KEY"] = "cli key"
    try:
        store = Store.open(db)
        Vault(store).set_variable("u/admin/pw", SECRET, is_secret=True)
        store.close()
    finally:
        del os.environ["MILLRACE_SECRET_KEY"]
    (tmp_path / "f.json").write_text(json.dumps(flow(py("leak", LEAK, x="$var:u/admin/pw"))))

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "engine", "--db", db, *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout + done.stderr

    out = cli("run", "f.json", "--run-id", "masked-run", "--events")
    assert json.loads(out.splitlines()[0])["value"] == MASK
    for text in (out, cli("status", "masked-run"), cli("logs", "masked-run")):
        assert SECRET not in text and MASK in text
