"""Events of a run in another process arrive masked, also what is read back from the store."""

from __future__ import annotations

import asyncio
import json
import uuid

from engine import Engine, EventRelay, Store
from engine.masking import MASK
from engine.vault import Vault
from tests.engine.test_pgevents import WAIT, events_until_finished, run_peer
from tests.flowkit import flow, py
from tests.pg import SKIP_ENV, Cluster, find_bin_dir, pg_database, pg_url  # noqa: F401  (fixtures)

SECRET = "pg-s3cr3t-value"
LEAKS = flow(
    py("small", "def main(x):\n    print('small', x)\n    return x\n", x="$var:u/admin/pw"),
    py("big", "def main(x):\n    return [f'{x} {i:05d}' for i in range(3000)]\n", x="$var:u/admin/pw"),
)


def test_a_relayed_run_shows_no_secret_even_in_results_read_back(pg_database, tmp_path, monkeypatch):
    monkeypatch.setenv("MILLRACE_SECRET_KEY", "relay key")  # the peer inherits it
    run_id = uuid.uuid4().hex

    async def scenario() -> list:
        engine = Engine(store=Store.open(pg_database))
        Vault.of(engine.store).set_variable("u/admin/pw", SECRET, is_secret=True)
        try:
            remote = engine.events.subscribe(run_id)
            relay = EventRelay.for_engine(engine)
            async with relay:
                assert await asyncio.to_thread(relay.wait_listening, WAIT)
                await run_peer(pg_database, LEAKS, run_id, tmp_path)
                return await events_until_finished(remote)
        finally:
            await engine.close()
            engine.store.close()

    events = asyncio.run(scenario())
    finished = {e.step_id: e.data for e in events if e.kind == "step_finished"}
    assert finished["small"]["result"] == MASK
    assert finished["big"]["result"][0] == f"{MASK} 00000"  # too big to relay: read back, masked
    assert SECRET not in json.dumps([e.to_dict() for e in events])
