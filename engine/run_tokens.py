"""Run tokens: what a run's scripts call the app back with (`WM_TOKEN`).

A token is `run.<claims>.<signature>`: the claims (base64url JSON) name the root run,
its workspace and an expiry time; the signature is the vault's, for purpose
"run-token", so every process holding the same secret key (the app, each worker) makes
and accepts the same tokens. A token is good while its signature checks, its expiry
has not passed, and (`ended_refusal`) its run has not ended more than a grace period
ago: the grace lets approval links a step asked for keep working around the run's end.
Who the token acts for is the app's to say (the run's starter); the engine only signs.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from dataclasses import dataclass
from typing import Any, Callable

from engine.errors import BadInput
from engine.signing import Signer

PREFIX = "run."
PURPOSE = "run-token"
LIFETIME_ENV, DEFAULT_LIFETIME = "MILLRACE_RUN_TOKEN_LIFETIME", 86400.0
"""Seconds a token is good for at most, however long its run lasts (a stolen token dies)."""
GRACE_ENV, DEFAULT_GRACE = "MILLRACE_RUN_TOKEN_GRACE", 900.0
"""Seconds a token stays good after its run ended."""
FINISHED = frozenset({"success", "failure", "canceled"})


class RunTokenError(BadInput):
    """A run token that is malformed, forged or expired; the message says which."""


@dataclass(frozen=True)
class RunClaim:
    """What a well-signed run token says."""

    run_id: str
    """The root run whose scripts hold the token."""
    workspace: str
    expires_at: float


class RunTokens:
    """Issues and reads run tokens.

    Args:
        signer: the vault's signer (`Vault.of(store).signer`).
        now: the clock (seconds since the epoch); tests inject one.
    """

    def __init__(self, signer: Signer, now: Callable[[], float] = time.time):
        self.signer = signer
        self.now = now

    def issue(self, run_id: str, workspace: str, lifetime: float | None = None) -> str:
        """A token for the scripts of root run `run_id`, good for `lifetime` seconds at most."""
        seconds = lifetime if lifetime is not None else seconds_setting(LIFETIME_ENV, DEFAULT_LIFETIME)
        claims = {"run": run_id, "workspace": workspace, "expires": round(self.now() + seconds, 3)}
        body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
        return f"{PREFIX}{body}.{self.signer.sign(PURPOSE, body)}"

    def read(self, token: str) -> RunClaim:
        """The claims of a good token.

        Raises:
            RunTokenError: not a run token, a wrong signature, or past its expiry.
        """
        body, _, signature = token[len(PREFIX):].rpartition(".") if token.startswith(PREFIX) else ("", "", "")
        if not body or not self.signer.check(PURPOSE, signature, body):
            raise RunTokenError("not a valid run token (its signature does not check)")
        claim = _claims(body)
        if self.now() >= claim.expires_at:
            raise RunTokenError(f"the token of run {claim.run_id} expired at {_when(claim.expires_at)}")
        return claim

    def script_env(self, run: Any, key: str = "") -> dict[str, str]:
        """A run's scripts' `WM_TOKEN` (for `Services.run_env` of a worker process)."""
        root = getattr(run, "root_run_id", None) or run.id
        return {"WM_TOKEN": self.issue(root, getattr(run, "workspace", None) or "main")}

    def run_refusal(self, claim: RunClaim, run: Any) -> str | None:
        """Why the token is no longer good for `run`, its root run as stored (None when it
        does not exist): a message, or None while the token is good (grace from `GRACE_ENV`)."""
        return ended_refusal(claim, run, self.now(), seconds_setting(GRACE_ENV, DEFAULT_GRACE))

    @staticmethod
    def is_token(token: str) -> bool:
        """Whether `token` claims to be a run token (whether it is good is `read`'s to say)."""
        return token.startswith(PREFIX)


def ended_refusal(claim: RunClaim, run: Any, now: float, grace: float) -> str | None:
    """Why the token is no longer good for `run` at `now` (a message), or None while it is."""
    if run is None:
        return f"run {claim.run_id} of this token does not exist"
    if run.status in FINISHED and (run.finished_at or 0.0) + grace <= now:
        return (f"run {claim.run_id} ended at {_when(run.finished_at or 0.0)}; "
                f"its token stopped working {grace:g} s later")
    return None


def seconds_setting(name: str, default: float) -> float:
    """A number of seconds from the environment variable `name`, else `default`.

    Raises:
        BadInput: the variable is set to something that is not a non-negative number.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadInput(f"{name} must be a number of seconds, not {raw!r}") from None
    if value < 0:
        raise BadInput(f"{name} must not be negative (it is {raw})")
    return value


def _claims(body: str) -> RunClaim:
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return RunClaim(str(data["run"]), str(data["workspace"]), float(data["expires"]))
    except (binascii.Error, ValueError, KeyError, TypeError):
        # Signed by us yet unreadable: only a bug makes such a token.
        raise RunTokenError("the run token's claims cannot be read") from None


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))
