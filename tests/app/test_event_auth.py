"""Every web event handler is denied without a session; admin-only ones refuse operators."""

from __future__ import annotations

from types import SimpleNamespace

import app.app  # noqa: F401  (imports every page state)
from reflex.state import State

from app.states.guard import ALLOW, LOGIN, REFUSE, decide, is_admin_only, is_framework, open_handlers


def _walk(cls):
    yield cls
    for sub in cls.get_substates():
        yield from _walk(sub)


HANDLERS = [(c, n) for c in _walk(State) for n in c.event_handlers]
ADMIN = SimpleNamespace(username="a", role="admin", is_admin=True)
OPERATOR = SimpleNamespace(username="o", role="operator", is_admin=False)


def test_no_session_denies_every_app_handler():
    app_handlers = [(c, n) for c, n in HANDLERS if not is_framework(c)]
    assert len(app_handlers) > 20
    for cls, name in app_handlers:
        expected = ALLOW if (cls, name) in open_handlers() else LOGIN
        assert decide(cls, name, None) == expected, (cls.__name__, name)


def test_admin_only_refuses_operators():
    marked = [(c, n) for c, n in HANDLERS if is_admin_only(c, n)]
    assert len(marked) >= 17
    for cls, name in marked:
        assert decide(cls, name, OPERATOR) == REFUSE, (cls.__name__, name)
        assert decide(cls, name, ADMIN) == ALLOW
