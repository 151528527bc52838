"""The bundled examples do what they promise, run through the REST API on the real server.

Each test starts from fresh demo data (`POST /api/demo/reset`) and asserts what the flow
left behind: the ETL's warehouse (the DuckDB file in the app's data folder, or a real
PostgreSQL database), and in the demo API notifications, expenses, the three systems,
audit records. Waiting 48 hours is simulated by moving a waiting step's deadline into the
past in the database, the one thing the server reads to decide that time is up.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import psycopg
import pytest

from app.rest.demo_api import CURRENCIES, orders_for
from engine import Store
from tests.app.apikit import W, wait_status
from tests.pg import pg_database, pg_url  # noqa: F401  (pytest fixtures)

ETL = "f/examples/etl_daily"
EXPENSE = "f/examples/expense_approval"
CRM = "f/examples/crm_sync"
DEMO = "/api/demo"
FORTY_EIGHT_HOURS = 48 * 3600


@pytest.fixture(scope="module")
def store(app_server):
    opened = Store.open(app_server.db_url)
    yield opened
    opened.close()


@pytest.fixture(autouse=True)
def fresh_demo(api):
    assert api.post(f"{DEMO}/reset").status_code == 200
    yield
    api.post(f"{DEMO}/faults", json={})


def _start(api, path: str, args: dict[str, Any]) -> str:
    response = api.post(f"{W}/jobs/run/f/{path}", json=args)
    assert response.status_code == 201, response.text
    return response.text


def _notes(api, **match: str) -> list[dict[str, Any]]:
    notes = api.get(f"{DEMO}/notifications").json()
    return [n for n in notes if all(n.get(k) == v for k, v in match.items())]


# ---- daily ETL -------------------------------------------------------------------------

def _expected_totals(day: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for order in orders_for(day):
        if order["customer"] and order["amount"] > 0 and order["currency"] in CURRENCIES:
            totals[order["customer"]] = totals.get(order["customer"], 0.0) + order["amount"] * CURRENCIES[order["currency"]]
    return {customer: round(total, 2) for customer, total in totals.items()}


def _duckdb_warehouse(app_server, day: str) -> tuple[dict[str, float], int, list[str]]:
    """What the DuckDB warehouse holds for `day`: totals per customer, orders, batch ids."""
    path = Path(app_server.db_url.removeprefix("sqlite:///")).parent / "files" / "warehouse.duckdb"
    with duckdb.connect(str(path), read_only=True) as db:
        rows = db.execute("SELECT customer, orders, total_usd FROM customer_totals WHERE day = ?", [day]).fetchall()
        batches = db.execute("SELECT batch_id FROM etl_batches WHERE day = ? ORDER BY seq", [day]).fetchall()
    return {c: float(t) for c, _, t in rows}, sum(o for _, o, _ in rows), [b for (b,) in batches]


def test_etl_pages_through_orders_retries_the_failed_page_loads_into_duckdb_and_notifies(api, store, app_server):
    run_id = _start(api, ETL, {"date": "2024-05-01", "page_size": 25, "channel": "#etl-test"})
    job = wait_status(api, run_id, {"success", "failure"}, timeout=60)
    assert job["status"] == "success", job["result"]
    totals, orders, batches = _duckdb_warehouse(app_server, "2024-05-01")
    assert job["result"] == {"date": "2024-05-01", "batch_id": batches[-1], "loaded": 6, "rejected": 3}
    assert batches[-1].startswith("b-2024-05-01-")

    # 60 orders in pages of 25: three pages; page 2 answered 503 once and its retry recovered.
    steps = store.load_steps(run_id)
    pages = {key: step for key, step in steps.items() if step.step_id == "fetch_page"}
    assert sorted(step.iteration for step in pages.values()) == [0, 1, 2]
    attempts = {step.iteration: step.attempts for step in pages.values()}
    assert attempts[1] >= 1 and attempts[0] == attempts[2] == 0
    assert all(step.status == "success" for step in pages.values())
    assert {step.step_id for step in steps.values()} >= {"load", "load_duckdb"}

    assert totals == pytest.approx(_expected_totals("2024-05-01"))
    assert orders == 57  # three orders are invalid

    note, = _notes(api, channel="#etl-test")
    assert "loaded 6 customer totals" in note["message"] and "3 orders rejected" in note["message"]


def test_etl_run_again_for_the_same_day_replaces_the_day_instead_of_doubling_it(api, app_server):
    for _ in range(2):
        response = api.post(f"{W}/jobs/run_wait_result/f/{ETL}", json={"date": "2024-05-02"}, params={"timeout": 60})
        assert response.status_code == 200, response.text
    totals, _, batches = _duckdb_warehouse(app_server, "2024-05-02")
    assert batches == ["b-2024-05-02-1", "b-2024-05-02-2"]
    assert response.json()["batch_id"] == "b-2024-05-02-2"
    assert totals == pytest.approx(_expected_totals("2024-05-02"))


def test_etl_loads_into_postgresql_when_a_warehouse_resource_is_picked(api, pg_database):
    url = urlparse(pg_database)
    resource = {"path": "u/admin/etl_warehouse", "resource_type": "postgresql",
                "value": {"host": url.hostname, "port": url.port, "user": url.username, "dbname": url.path[1:]}}
    assert api.post(f"{W}/resources/create", json=resource).status_code in (200, 201)
    args = {"date": "2024-05-03", "warehouse": "$res:u/admin/etl_warehouse"}
    try:
        for _ in range(2):
            response = api.post(f"{W}/jobs/run_wait_result/f/{ETL}", json=args, params={"timeout": 60})
            assert response.status_code == 200, response.text
    finally:  # other tests list the session's postgresql resources
        api.delete(f"{W}/resources/delete/u/admin/etl_warehouse")
    assert response.json() == {"date": "2024-05-03", "batch_id": "b-2024-05-03-2", "loaded": 6, "rejected": 3}
    with psycopg.connect(pg_database) as conn:
        rows = conn.execute("SELECT customer, total_usd, batch_id FROM customer_totals WHERE day = '2024-05-03'").fetchall()
    assert {c: float(t) for c, t, _ in rows} == pytest.approx(_expected_totals("2024-05-03"))
    assert {b for _, _, b in rows} == {"b-2024-05-03-2"}


# ---- expense approval ------------------------------------------------------------------

def _decide(api, run_id: str, *, approve: bool, approver: str, comment: str = "") -> None:
    links = api.get(f"{W}/jobs/resume_urls/{run_id}/{uuid.uuid4().hex}", params={"approver": approver}).json()
    response = api.post(links["resume" if approve else "cancel"], json={"comment": comment})
    assert response.status_code == 200, response.text


def _waiting_step(store, run_id: str) -> tuple[str, dict[str, Any]]:
    """The key and suspend state of the step the run waits on."""
    for key, step in store.load_steps(run_id).items():
        state = (step.data or {}).get("suspend")
        if isinstance(state, dict) and not state["approvals"] and step.status != "failure":
            if state["deadline"] > time.time():
                return key, state
    raise AssertionError(f"run {run_id} waits on no step")


def _let_48_hours_pass(app_server, store, run_id: str) -> str:
    """Move the waiting step's deadline (and the run's wake-up time) into the past."""
    key, _ = _waiting_step(store, run_id)
    past = time.time() - 1
    with sqlite3.connect(app_server.db_url.removeprefix("sqlite:///")) as db:
        (raw,) = db.execute("SELECT data FROM steps WHERE run_id = ? AND key = ?", (run_id, key)).fetchone()
        data = json.loads(raw)
        data["suspend"]["deadline"] = past
        db.execute("UPDATE steps SET data = ? WHERE run_id = ? AND key = ?", (json.dumps(data), run_id, key))
        db.execute("UPDATE runs SET scheduled_for = ? WHERE id = ?", (past, run_id))
    return key


def _wait_asked(api, run_id: str, email: str, count: int = 1) -> None:
    deadline = time.monotonic() + 30
    while len(_notes(api, to=email)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(_notes(api, to=email)) >= count, f"{email} was never asked"
    assert wait_status(api, run_id, {"suspended", "failure"})["status"] == "suspended"


@pytest.mark.parametrize(("amount", "chain"), [
    (320, [("manager", "grace@example.com")]),
    (500, [("manager", "grace@example.com"), ("department head", "ines@example.com")]),
    (2000, [("manager", "grace@example.com"), ("department head", "ines@example.com")]),
    (2000.01, [("manager", "grace@example.com"), ("department head", "ines@example.com"),
               ("finance", "finance@example.com")]),
])
def test_expense_is_routed_by_amount_and_approved_by_each_level_in_turn(api, amount, chain):
    run_id = _start(api, EXPENSE, {"employee_id": "e-100", "amount": amount, "category": "travel"})
    for role, email in chain:
        _wait_asked(api, run_id, email)
        _decide(api, run_id, approve=True, approver=f"{role} user", comment=f"ok from {role}")
    job = wait_status(api, run_id, {"success", "failure"})
    assert job["status"] == "success", job["result"]
    assert job["result"]["status"] == "approved" and job["result"]["approvals"] == len(chain)

    expense, = api.get(f"{DEMO}/expenses").json()
    assert expense["status"] == "approved" and expense["amount"] == amount
    assert [a["role"] for a in expense["approvals"]] == [role for role, _ in chain]
    assert [a["comment"] for a in expense["approvals"]] == [f"ok from {role}" for role, _ in chain]
    assert _notes(api, to="ada@example.com")[-1]["message"].startswith("Your expense of")
    asked = [n["to"] for n in api.get(f"{DEMO}/notifications").json() if n["to"] not in (None, "ada@example.com")]
    assert asked == [email for _, email in chain]  # one at a time, in order, nobody else


def test_a_rejection_ends_the_claim_and_tells_the_employee(api):
    run_id = _start(api, EXPENSE, {"employee_id": "e-200", "amount": 800, "category": "meals"})
    _wait_asked(api, run_id, "maya@example.com")
    _decide(api, run_id, approve=True, approver="maya")
    _wait_asked(api, run_id, "ken@example.com")
    _decide(api, run_id, approve=False, approver="ken", comment="not in budget")
    job = wait_status(api, run_id, {"success", "failure"})
    assert job["status"] == "failure"

    expense, = api.get(f"{DEMO}/expenses").json()
    assert expense["status"] == "rejected" and "department head" in expense["reason"]
    assert "not approved" in _notes(api, to="e-200")[-1]["message"]
    assert not _notes(api, to="tom@example.com")  # no approval message to the employee


def _escalated(api, app_server, store) -> str:
    """A run whose manager let 48 h pass: now waiting on the department head."""
    run_id = _start(api, EXPENSE, {"employee_id": "e-300", "amount": 120, "category": "other"})
    _wait_asked(api, run_id, "omar@example.com")
    key, state = _waiting_step(store, run_id)
    assert key.endswith("/ask") and state["deadline"] - state["asked_at"] == pytest.approx(FORTY_EIGHT_HOURS)
    _let_48_hours_pass(app_server, store, run_id)
    deadline = time.monotonic() + 30
    while not _notes(api, channel="#finance-escalations") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert wait_status(api, run_id, {"suspended", "failure"})["status"] == "suspended"
    return run_id


def test_an_approver_silent_for_48_hours_escalates_one_level_up(api, app_server, store):
    run_id = _escalated(api, app_server, store)
    escalation, = _notes(api, channel="#finance-escalations")
    assert escalation["message"] == "Omar Haddad did not answer within 48 h: the department head decides now."
    key, state = _waiting_step(store, run_id)
    assert key.endswith("/escalate") and state["deadline"] - state["asked_at"] == pytest.approx(FORTY_EIGHT_HOURS)
    assert not api.get(f"{DEMO}/expenses").json()  # nothing decided yet


def test_the_escalated_approver_can_approve_the_claim(api, app_server, store):
    run_id = _escalated(api, app_server, store)
    _decide(api, run_id, approve=True, approver="zoe")
    job = wait_status(api, run_id, {"success", "failure"}, timeout=15)
    assert job["status"] == "success", job["result"]
    expense, = api.get(f"{DEMO}/expenses").json()
    assert expense["status"] == "approved"
    assert expense["approvals"] == [{"role": "manager", "approver": "Omar Haddad",
                                     "decided_by": "escalation to the department head", "comment": ""}]


def test_an_escalation_left_unanswered_rejects_the_claim(api, app_server, store):
    run_id = _escalated(api, app_server, store)
    _let_48_hours_pass(app_server, store, run_id)
    assert wait_status(api, run_id, {"success", "failure"})["status"] == "failure"
    expense, = api.get(f"{DEMO}/expenses").json()
    assert expense["status"] == "rejected" and "escalate timed out" in expense["reason"]
    assert "not approved" in _notes(api, to="e-300")[-1]["message"]


# ---- CRM / billing / support sync ------------------------------------------------------

FIELDS = ("name", "phone", "plan")


def _systems(api) -> dict[str, dict[str, dict[str, Any]]]:
    return {system: {r["email"]: r for r in api.get(f"{DEMO}/{system}/records").json()}
            for system in ("crm", "billing", "support")}


def _disagreements(systems: dict[str, dict[str, dict[str, Any]]], names: tuple[str, ...]) -> list[tuple[str, str]]:
    found = []
    for email in systems["crm"]:
        for field in FIELDS:
            values = {systems[s][email][field] for s in names if field in systems[s][email]}
            if len(values) > 1:
                found.append((email, field))
    return found


def test_sync_fetches_in_parallel_resolves_every_conflict_verifies_and_audits(api, store):
    before = _systems(api)
    assert len(_disagreements(before, ("crm", "billing", "support"))) == 4
    response = api.post(f"{W}/jobs/run_wait_result/f/{CRM}", json={}, params={"timeout": 60})
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["status"], result["conflicts"], result["fixed"], result["remaining"]) == ("complete", 4, 4, 0)

    after = _systems(api)
    assert _disagreements(after, ("crm", "billing", "support")) == []
    # The most recently updated record won each conflict.
    assert after["crm"]["ben@corp.example"]["plan"] == "pro"
    assert after["billing"]["cho@corp.example"]["name"] == "Cho Min-jun"
    assert after["support"]["dev@corp.example"]["phone"] == "+1 555 0199"
    assert after["crm"]["eli@corp.example"]["name"] == "Elias Novak"

    audit, = api.get(f"{DEMO}/audit").json()
    assert audit["id"] == result["audit_id"] and audit["status"] == "complete" and audit["run_id"]
    steps = store.load_steps(audit["run_id"])
    fetches = [s for s in steps.values() if s.step_id in ("fetch_crm", "fetch_billing", "fetch_support")]
    assert len(fetches) == 3
    assert max(s.started_at for s in fetches) < min(s.finished_at for s in fetches)  # they overlapped


def test_sync_with_the_support_system_down_syncs_the_others_and_says_so(api):
    response = api.post(f"{W}/jobs/run_wait_result/f/{CRM}", json={"simulate_support_outage": True},
                        params={"timeout": 60})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "partial" and result["systems_failed"] == ["fetch_support"]
    after = _systems(api)
    assert _disagreements(after, ("crm", "billing")) == []
    assert after["support"]["dev@corp.example"]["phone"] == "+1 555 0104"  # untouched
    audit, = api.get(f"{DEMO}/audit").json()
    assert audit["systems_failed"] == ["fetch_support"] and audit["status"] == "partial"


def test_sync_whose_fixes_fail_audits_them_then_fails_the_run(api, store):
    api.post(f"{DEMO}/faults", json={"refuse_writes": ["billing"]})
    response = api.post(f"{W}/jobs/run_wait_result/f/{CRM}", json={}, params={"timeout": 60})
    assert response.status_code == 500
    audit, = api.get(f"{DEMO}/audit").json()
    # Only cho's name had to be written to billing (billing won the other conflicts it is in).
    assert (audit["status"], audit["fix_failures"], audit["fixed"], audit["remaining"]) == ("partial", 1, 3, 1)
    assert "423" in audit["fix_errors"][0]
    run = store.get_run(audit["run_id"])
    assert run.status == "failure" and f"see audit record {audit['id']}" in run.error["message"]
    after = _systems(api)
    assert after["crm"]["ben@corp.example"]["plan"] == "pro"  # the other fixes went through
    assert _disagreements(after, ("crm", "billing", "support")) == [("cho@corp.example", "name")]


def test_sync_dry_run_reports_without_writing(api):
    before = _systems(api)
    response = api.post(f"{W}/jobs/run_wait_result/f/{CRM}", json={"dry_run": True}, params={"timeout": 60})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "dry_run" and response.json()["remaining"] == 4
    assert _systems(api) == before
