"""A small offline API the example flows call: orders for the ETL (which loads them
into a database with a SQL step, not through this API), employees and departments for expense approval, and CRM, billing and support
systems for the sync. Everything lives in memory and starts from the same data.

Some behaviours exist to show the engine at work: the orders endpoint answers 503 to
the first request for page 2 of each run (the extract step retries), the support
system is down when asked with `outage=1`, and `POST /faults` makes systems refuse
writes (the sync handles partial failures).
"""

from __future__ import annotations

import copy
import random
from datetime import date as Date
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ORDER_COUNT = 60
CURRENCIES = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}
CUSTOMERS = ("acme", "globex", "initech", "umbrella", "hooli", "stark")

EMPLOYEES = {
    "e-100": {"id": "e-100", "name": "Ada Park", "email": "ada@example.com", "department": "engineering",
              "manager": {"name": "Grace Ho", "email": "grace@example.com"}},
    "e-200": {"id": "e-200", "name": "Tom Reyes", "email": "tom@example.com", "department": "sales",
              "manager": {"name": "Maya Singh", "email": "maya@example.com"}},
    "e-300": {"id": "e-300", "name": "Lin Chen", "email": "lin@example.com", "department": "operations",
              "manager": {"name": "Omar Haddad", "email": "omar@example.com"}},
}
DEPARTMENTS = {
    "engineering": {"head": {"name": "Ines Duarte", "email": "ines@example.com"}},
    "sales": {"head": {"name": "Ken Watanabe", "email": "ken@example.com"}},
    "operations": {"head": {"name": "Zoe Adler", "email": "zoe@example.com"}},
}
FINANCE = {"name": "Priya Nair", "email": "finance@example.com"}

_PEOPLE = [
    ("ana@corp.example", "Ana Lima", "+1 555 0101", "pro"),
    ("ben@corp.example", "Ben Okafor", "+1 555 0102", "team"),
    ("cho@corp.example", "Cho Min", "+1 555 0103", "free"),
    ("dev@corp.example", "Dev Patel", "+1 555 0104", "pro"),
    ("eli@corp.example", "Eli Novak", "+1 555 0105", "team"),
]


def _systems() -> dict[str, dict[str, dict[str, Any]]]:
    """The three systems' records by email, with a few deliberate disagreements."""
    crm, billing, support = {}, {}, {}
    for index, (email, name, phone, plan) in enumerate(_PEOPLE):
        crm[email] = {"email": email, "name": name, "phone": phone, "plan": plan, "updated_at": 1000 + index}
        billing[email] = {"email": email, "name": name, "plan": plan, "balance": 10.0 * index, "updated_at": 900 + index}
        support[email] = {"email": email, "name": name, "phone": phone, "tier": "standard", "updated_at": 800 + index}
    billing["ben@corp.example"].update(plan="pro", updated_at=2000)
    support["cho@corp.example"].update(name="Cho Min-jun", updated_at=2100)
    crm["dev@corp.example"].update(phone="+1 555 0199", updated_at=2200)
    billing["eli@corp.example"].update(name="Elias Novak", updated_at=2300)
    return {"crm": crm, "billing": billing, "support": support}


class DemoData:
    """The demo API's memory; `reset` brings it back to the start."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.systems = _systems()
        self.refuse_writes: set[str] = set()  # systems that answer 423 to updates
        self.notifications: list[dict[str, Any]] = []
        self.expenses: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []
        self.failed_once: set[str] = set()


DATA = DemoData()


def orders_for(day: str) -> list[dict[str, Any]]:
    """The day's orders, the same every time; three of them are invalid on purpose."""
    rng = random.Random(day)
    orders = []
    for n in range(1, ORDER_COUNT + 1):
        orders.append({
            "id": f"o-{day.replace('-', '')}-{n:03d}",
            "customer": rng.choice(CUSTOMERS),
            "amount": round(rng.uniform(5, 500), 2),
            "currency": rng.choice(list(CURRENCIES)),
            "created_at": f"{day}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
        })
    orders[7]["amount"] = -12.5
    orders[21]["customer"] = ""
    orders[42]["currency"] = "XYZ"
    return orders


async def list_orders(request: Request) -> JSONResponse:
    params = request.query_params
    day = params.get("date") or Date.today().isoformat()
    page, per_page = int(params.get("page", 1)), max(1, min(100, int(params.get("per_page", 25))))
    run = params.get("run")
    if run and page == 2 and run not in DATA.failed_once:
        DATA.failed_once.add(run)
        return JSONResponse({"error": "orders service busy, try again"}, status_code=503)
    orders = orders_for(day)
    start = (page - 1) * per_page
    items = orders[start:start + per_page]
    next_page = page + 1 if start + per_page < len(orders) else None
    return JSONResponse({"page": page, "per_page": per_page, "total": len(orders),
                         "items": items, "next_page": next_page})


async def notify(request: Request) -> JSONResponse:
    body = await request.json()
    note = {"id": len(DATA.notifications) + 1, "channel": body.get("channel", "#general"),
            "to": body.get("to"), "message": str(body.get("message", ""))}
    DATA.notifications.append(note)
    return JSONResponse({"ok": True, "id": note["id"]})


async def list_notifications(request: Request) -> JSONResponse:
    return JSONResponse(DATA.notifications[-100:])


async def get_employee(request: Request) -> JSONResponse:
    employee = EMPLOYEES.get(request.path_params["employee_id"])
    if employee is None:
        return JSONResponse({"error": "no such employee"}, status_code=404)
    department = DEPARTMENTS[employee["department"]]
    return JSONResponse({**employee, "department_head": department["head"], "finance": FINANCE})


async def record_expense(request: Request) -> JSONResponse:
    body = await request.json()
    expense = {"id": f"exp-{len(DATA.expenses) + 1}", **body}
    DATA.expenses.append(expense)
    return JSONResponse(expense)


async def list_expenses(request: Request) -> JSONResponse:
    return JSONResponse(DATA.expenses[-100:])


async def list_records(request: Request) -> JSONResponse:
    system = request.path_params["system"]
    if system not in DATA.systems:
        return JSONResponse({"error": f"unknown system {system}"}, status_code=404)
    if system == "support" and request.query_params.get("outage") == "1":
        return JSONResponse({"error": "support system unavailable"}, status_code=503)
    return JSONResponse(sorted(DATA.systems[system].values(), key=lambda r: r["email"]))


async def update_record(request: Request) -> JSONResponse:
    system, email = request.path_params["system"], request.path_params["email"]
    records = DATA.systems.get(system)
    if records is None or email not in records:
        return JSONResponse({"error": f"no record {email} in {system}"}, status_code=404)
    if system in DATA.refuse_writes:
        return JSONResponse({"error": f"{system} is read-only right now"}, status_code=423)
    changes = await request.json()
    records[email].update({k: v for k, v in changes.items() if k != "email"})
    return JSONResponse(copy.deepcopy(records[email]))


async def add_audit(request: Request) -> JSONResponse:
    entry = {"id": len(DATA.audit) + 1, **(await request.json())}
    DATA.audit.append(entry)
    return JSONResponse({"id": entry["id"]})


async def list_audit(request: Request) -> JSONResponse:
    return JSONResponse(DATA.audit[-100:])


async def set_faults(request: Request) -> JSONResponse:
    body = await request.json()
    DATA.refuse_writes = set(body.get("refuse_writes") or [])
    return JSONResponse({"refuse_writes": sorted(DATA.refuse_writes)})


async def reset(request: Request) -> JSONResponse:
    DATA.reset()
    return JSONResponse({"ok": True})


routes = [
    Route("/orders", list_orders),
    Route("/notify", notify, methods=["POST"]),
    Route("/notifications", list_notifications),
    Route("/employees/{employee_id}", get_employee),
    Route("/expenses", record_expense, methods=["POST"]),
    Route("/expenses", list_expenses, methods=["GET"]),
    Route("/{system}/records", list_records),
    Route("/{system}/records/{email}", update_record, methods=["PUT", "POST"]),
    Route("/audit", add_audit, methods=["POST"]),
    Route("/audit", list_audit, methods=["GET"]),
    Route("/faults", set_faults, methods=["POST"]),
    Route("/reset", reset, methods=["POST"]),
]
"""Mounted under /api/demo."""
