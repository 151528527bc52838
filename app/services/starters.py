"""Who a run acts for: whoever started it, recorded in the run's state when it is created.

A run started from a page acts for the logged-in user, one started over REST (a webhook
included: every webhook call carries a token) for the token's owner, one started by a
run's own token for that run's starter, and a scheduled run (or a schedule's failure
handler) for the user who last saved the schedule. The role is the user's role now,
so demoting someone demotes their runs; a name that is no user any more keeps the role
recorded at the start. A run with no known starter (started by the CLI, or before
starters were recorded) acts for nobody, with an operator's rights.
"""

from __future__ import annotations

from typing import Any

from app.services.accounts import OPERATOR, Caller

STARTED_BY, STARTED_ROLE = "started_by", "started_role"
NOBODY = Caller("", OPERATOR)
"""The starter of a run nobody is recorded for."""


def started_state(who: Caller | None) -> dict[str, str]:
    """The run state that records `who` as the starter (nothing for None)."""
    return {STARTED_BY: who.username, STARTED_ROLE: who.role} if who is not None and who.username else {}


def starter(run: Any) -> Caller:
    """Who `run` acts for (`NOBODY` when nobody is recorded)."""
    from app.services import scheduling

    state = run.state or {}
    name, role = state.get(STARTED_BY), state.get(STARTED_ROLE) or OPERATOR
    if not name and run.schedule_id:
        name = scheduling.editor(run.schedule_id)
    if not name:
        return NOBODY
    return Caller(str(name), _current_role(str(name)) or str(role))


def _current_role(username: str) -> str | None:
    from app.services.engine_service import service

    user = service.accounts.user(username)
    return user.role if user is not None else None
