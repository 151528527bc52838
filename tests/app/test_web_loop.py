"""No web event handler blocks the web server's event loop.

The app refuses every database call made on its web loop (`app.services.offloop`) and logs the
refusal. Here every handler of every page is sent, as an admin whose session may do
anything, with arguments made from its signature, against data planted through REST:
a handler that reaches the store without `off_loop` shows up in the server's log. It
runs on an app of its own, as the handlers change what they are given.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.app.conftest import BLOCKED_LOOP, log_in
from tests.app.eventsocket import EventSocket
from tests.app.handlers import APP_HANDLERS, Planted, arguments, full_name, state_named, takes_files
from tests.app.server import ADMIN_PASSWORD, PORTS, Server, ensure_frontend, free_port, start, stop

EVENT_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def own_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Reached over a raw websocket and REST only: the session's build (first port) will do.
    ensure_frontend(PORTS[0])
    server = start(free_port(), Path(tmp_path_factory.mktemp("web_loop")), web_port=PORTS[0])
    try:
        yield server
    finally:
        stop(server)


def test_every_handler_runs_its_blocking_work_off_the_web_loop(own_app) -> None:
    with httpx.Client(base_url=own_app.url, headers={"Authorization": f"Bearer {own_app.token}"},
                      timeout=60) as api:
        planted = Planted(api)
    session = log_in(own_app.url, "admin", ADMIN_PASSWORD)
    sent = [(cls, name, h) for cls, name, h in APP_HANDLERS if not takes_files(h)]
    with EventSocket(own_app.url, session=session) as socket:
        for cls, name, handler in sent:
            socket.send(full_name(cls, name), arguments(handler, planted), planted.page_of(cls))
        # Events of one tab are handled in order: once this one is answered, so are they.
        marker = uuid.uuid4().hex
        socket.send(full_name(state_named("FlowsState"), "set_query"), {"value": marker}, "/flows")
        socket.wait_until(lambda: marker in socket.text(), EVENT_TIMEOUT, "every handler to be handled")
        socket.drain(3.0)  # what background handlers still do
    log = own_app.log_path.read_text(errors="replace")
    assert BLOCKED_LOOP not in log, own_app.log_tail(80)
    assert len(sent) > 100
