"""Another process for the relay tests: runs one flow on PostgreSQL with an EventRelay on.

`python -m tests.engine.relay_peer DB_URL FLOW_FILE RUN_ID` runs the flow (JSON) to its
end as run RUN_ID, sends the events still queued, and exits 0.
"""

from __future__ import annotations

import asyncio
import json
import sys

from engine import Engine, EventRelay, Store


async def main(db_url: str, flow_file: str, run_id: str) -> None:
    with open(flow_file, encoding="utf-8") as handle:
        document = json.load(handle)
    engine = Engine(store=Store.open(db_url))
    try:
        async with EventRelay(engine.events, engine.store):
            await engine.run(document, run_id=run_id)
    finally:
        await engine.close()
        engine.store.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
