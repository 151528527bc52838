"""A run's own token on the app's side: given to its scripts, and resolved on each request.

The token (`engine.run_tokens`) names the root run, its workspace and an expiry. A
request with it acts for the run's starter (`app.services.starters`), in that workspace only,
until the run has ended plus `MILLRACE_RUN_TOKEN_GRACE` seconds (default 900), so
links a step asked for keep working around the run's end. What a run's token may
never do, whoever started the run, is `users_api.closed_to_runs`.
"""

from __future__ import annotations

from typing import Any

from app import settings
from app.services import starters
from app.services.accounts import Caller
from app.services.engine_service import service


class Refused(Exception):
    """A run token that may not be used for this request: `status` and a clear `message`."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def run_env(run: Any, key: str) -> dict[str, str]:
    """What every script of a run gets to call back: the engine's `Services.run_env`."""
    return {**_tokens().script_env(run), "BASE_INTERNAL_URL": settings.base_internal_url()}


def caller(token: str, workspace: str | None) -> Caller:
    """Whom a run token acts for, under `/api/w/<workspace>/` (None: a path outside workspaces).

    Raises:
        Refused: 401 for a forged, expired or ended-run token; 403 for another workspace.
    """
    from engine import BadInput

    try:
        claim = _tokens().read(token)
    except BadInput as exc:
        raise Refused(401, f"run token refused: {exc}") from None
    if workspace is not None and workspace != claim.workspace:
        raise Refused(403, f"this run's token is for workspace {claim.workspace!r}, not {workspace!r}")
    run = service.store.get_run(claim.run_id)
    ended = _tokens().run_refusal(claim, run)
    if ended is not None:
        raise Refused(401, f"run token refused: {ended}")
    who = starters.starter(run)
    return Caller(who.username, who.role, run_id=claim.run_id)


def is_run_token(token: str) -> bool:
    """Whether `token` claims to be a run's token (`caller` says whether it is good)."""
    return _tokens().is_token(token)


def _tokens() -> Any:
    from engine import Vault

    return Vault.of(service.store).run_tokens
