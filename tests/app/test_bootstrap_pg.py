"""First start of several app instances together on one empty PostgreSQL database."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from engine import Store
from tests.app.server import ROOT
from tests.pg import fresh_database, pg_url, shared_cluster  # noqa: F401  (fixtures)

# Each instance gets ready (imports, tables), says so, and starts its first-start work
# when told: all at the same moment, as replicas started together do.
BOOTSTRAP = """
import os, sys, time
from app.services.engine_service import service
service.store
open(sys.argv[1] + '.ready', 'w').close()
while not os.path.exists(sys.argv[2]):
    time.sleep(0.005)
service.bootstrap()
"""


def test_instances_starting_together_bootstrap_the_database_once(pg_url, tmp_path):  # noqa: F811
    name, db_url = fresh_database("bootstrap")
    env = {**os.environ, "DATABASE_URL": db_url, "PYTHONPATH": str(ROOT), "MILLRACE_DATA_DIR": str(tmp_path)}
    for variable in ("MILLRACE_TOKEN", "MILLRACE_ADMIN_PASSWORD"):
        env.pop(variable, None)
    go = tmp_path / "go"
    starts = [subprocess.Popen([sys.executable, "-c", BOOTSTRAP, str(tmp_path / str(i)), str(go)], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for i in range(3)]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"{i}.ready").exists() for i in range(3)):
        assert time.monotonic() < deadline and all(p.poll() is None for p in starts), "an instance did not start"
        time.sleep(0.02)
    go.touch()
    outputs = [proc.communicate(timeout=120) for proc in starts]
    assert [proc.returncode for proc in starts] == [0, 0, 0], [err[-2000:] for _, err in outputs]
    printed = "".join(out for out, _ in outputs)
    assert printed.count("Millrace admin API token") == 1
    assert printed.count("Millrace user admin, password") == 1
    store = Store.open(db_url)
    try:
        flows = store.list_flows()
        assert flows, "the example flows were imported"
        for flow in flows:
            assert len(store.list_flow_versions(flow.path)) == 1, flow.path
    finally:
        store.close()
        shared_cluster().drop_database(name)
