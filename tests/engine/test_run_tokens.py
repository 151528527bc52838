"""Run tokens: signed claims (run, workspace, expiry), checked with an injected clock."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest

from engine import BadInput, FakeClock
from engine.run_tokens import RunTokenError, RunTokens, ended_refusal, seconds_setting
from engine.signing import Signer


@pytest.fixture
def clock():
    return FakeClock(1_700_000_000.0)


@pytest.fixture
def tokens(clock):
    return RunTokens(Signer(b"k" * 32), now=clock.now)


def test_a_token_names_its_run_workspace_and_expiry(tokens, clock):
    token = tokens.issue("abc123", "main", lifetime=60)
    assert RunTokens.is_token(token) and not RunTokens.is_token("some-api-token")
    claim = tokens.read(token)
    assert (claim.run_id, claim.workspace, claim.expires_at) == ("abc123", "main", clock.now() + 60)


def test_a_token_stops_at_its_expiry(tokens, clock):
    token = tokens.issue("abc123", "main", lifetime=60)
    clock.advance(59.9)
    assert tokens.read(token).run_id == "abc123"
    clock.advance(0.1)
    with pytest.raises(RunTokenError, match="token of run abc123 expired at 2023-11-14 22:14:20 UTC"):
        tokens.read(token)


def test_changed_claims_or_another_key_are_refused(tokens, clock):
    token = tokens.issue("abc123", "main", lifetime=60)
    body, signature = token[len("run."):].split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    for change in ({"workspace": "other"}, {"run": "another"}, {"expires": claims["expires"] + 3600}):
        forged = base64.urlsafe_b64encode(json.dumps({**claims, **change}).encode()).decode().rstrip("=")
        with pytest.raises(RunTokenError, match="signature does not check"):
            tokens.read(f"run.{forged}.{signature}")
    with pytest.raises(RunTokenError, match="signature does not check"):
        RunTokens(Signer(b"x" * 32), now=clock.now).read(token)
    for junk in ("run.", "run.abc", "run..sig", "bearer-token"):
        with pytest.raises(RunTokenError):
            tokens.read(junk)


def test_default_lifetime_comes_from_the_environment(tokens, clock, monkeypatch):
    monkeypatch.setenv("MILLRACE_RUN_TOKEN_LIFETIME", "120")
    assert tokens.read(tokens.issue("r", "main")).expires_at == clock.now() + 120
    monkeypatch.setenv("MILLRACE_RUN_TOKEN_LIFETIME", "a day")
    with pytest.raises(BadInput, match="MILLRACE_RUN_TOKEN_LIFETIME must be a number of seconds, not 'a day'"):
        tokens.issue("r", "main")
    monkeypatch.setenv("MILLRACE_RUN_TOKEN_LIFETIME", "-5")
    with pytest.raises(BadInput, match="must not be negative"):
        seconds_setting("MILLRACE_RUN_TOKEN_LIFETIME", 1.0)


def test_a_token_works_while_its_run_lasts_and_for_the_grace_after(tokens, clock):
    claim = tokens.read(tokens.issue("r1", "main", lifetime=86400))
    running = SimpleNamespace(status="suspended", finished_at=None)
    assert ended_refusal(claim, running, clock.now() + 7200, grace=900) is None
    ended = SimpleNamespace(status="success", finished_at=clock.now())
    assert ended_refusal(claim, ended, clock.now() + 899, grace=900) is None
    refused = ended_refusal(claim, ended, clock.now() + 900, grace=900)
    assert refused == "run r1 ended at 2023-11-14 22:13:20 UTC; its token stopped working 900 s later"
    assert ended_refusal(claim, None, clock.now(), grace=900) == "run r1 of this token does not exist"


def test_the_grace_comes_from_the_environment(tokens, clock, monkeypatch):
    claim = tokens.read(tokens.issue("r1", "main", lifetime=86400))
    ended = SimpleNamespace(status="failure", finished_at=clock.now() - 60)
    assert tokens.run_refusal(claim, ended) is None  # default: 900 s
    monkeypatch.setenv("MILLRACE_RUN_TOKEN_GRACE", "30")
    assert "stopped working 30 s later" in tokens.run_refusal(claim, ended)


def test_script_env_gives_the_root_run_a_token(tokens):
    child = SimpleNamespace(id="child", root_run_id="root", workspace="main")
    token = tokens.script_env(child)["WM_TOKEN"]
    assert tokens.read(token).run_id == "root"
