"""Schedules over REST in Windmill's shapes: CRUD, validation errors, and real firings."""

from __future__ import annotations

import time

from engine import Store
from tests.app.apikit import DOUBLE, W, ensure_flow


def body(path: str, **fields):
    return {"path": path, "schedule": "0 2 * * *", "timezone": "Europe/Berlin", "script_path": DOUBLE["path"],
            "is_flow": True, "args": {"x": 4}, "enabled": True, **fields}


def test_create_get_list_update_disable_delete(api):
    ensure_flow(api, DOUBLE)
    path = "f/tests/sched_crud"
    created = api.post(f"{W}/schedules/create", json=body(path))
    assert (created.status_code, created.text) == (201, path)
    got = api.get(f"{W}/schedules/get/{path}").json()
    assert (got["schedule"], got["timezone"], got["args"], got["enabled"]) == ("0 2 * * *", "Europe/Berlin", {"x": 4}, True)
    assert got["description"] == "at 02:00 every day"
    assert path in [s["path"] for s in api.get(f"{W}/schedules/list").json()]
    assert api.post(f"{W}/schedules/create", json=body(path)).status_code == 400
    updated = api.post(f"{W}/schedules/update/{path}", json={"schedule": "30 9 * * 1-5", "args": {"x": 5}})
    assert updated.status_code == 200, updated.text
    got = api.get(f"{W}/schedules/get/{path}").json()
    assert (got["description"], got["args"], got["timezone"]) == ("at 09:30 on Monday through Friday", {"x": 5},
                                                                   "Europe/Berlin")
    assert api.post(f"{W}/schedules/setenabled/{path}", json={"enabled": False}).status_code == 200
    assert api.get(f"{W}/schedules/get/{path}").json()["enabled"] is False
    assert api.delete(f"{W}/schedules/delete/{path}").status_code == 200
    assert api.get(f"{W}/schedules/get/{path}").status_code == 404
    assert api.get(f"{W}/schedules/exists/{path}").json() is False


def test_bad_schedules_are_refused_with_a_message(api):
    ensure_flow(api, DOUBLE)
    cases = [
        (body("f/tests/sched_bad", schedule="61 * * * *"), "out of range"),
        (body("f/tests/sched_bad", schedule="* * *"), "5 fields"),
        (body("f/tests/sched_bad", schedule="0 0 31 2 *"), "'0 0 31 2 *' never fires: February has no 31st day"),
        (body("f/tests/sched_bad", timezone="Mars/Base"), "unknown time zone"),
        (body("f/tests/sched_bad", script_path="f/tests/nope"), "not found"),
        (body("f/tests/sched_bad", args={"x": "four"}), "x"),
        (body("f/tests/sched_bad", catch_up="everything"), "catch_up"),
        (body("bad path"), "a path looks like"),
    ]
    for request, fragment in cases:
        response = api.post(f"{W}/schedules/create", json=request)
        assert 400 <= response.status_code < 500, (request, response.text)
        assert fragment in response.text, (request, response.text)
    assert api.post(f"{W}/schedules/update/f/tests/never_made", json={"schedule": "* * * * *"}).status_code == 404
    assert api.post(f"{W}/schedules/setenabled/f/tests/never_made", json={"enabled": True}).status_code == 404


def test_preview_gives_the_next_firings_in_the_time_zone(api):
    response = api.post(f"{W}/schedules/preview", json={"schedule": "0 2 * * *", "timezone": "Europe/Berlin"})
    times = response.json()
    assert len(times) == 10 and all("T02:00:00+0" in t for t in times)
    assert api.post(f"{W}/schedules/preview", json={"schedule": "nope"}).status_code == 400


def test_an_expression_that_never_fires_is_refused_on_update_and_preview(api):
    ensure_flow(api, DOUBLE)
    path = "f/tests/sched_feb"
    assert api.post(f"{W}/schedules/create", json=body(path)).status_code == 201
    try:
        updated = api.post(f"{W}/schedules/update/{path}", json={"schedule": "0 0 30 2 *"})
        assert (updated.status_code, updated.text) == (400, "cron expression '0 0 30 2 *' never fires: "
                                                             "February has no 30th day")
        assert api.get(f"{W}/schedules/get/{path}").json()["schedule"] == "0 2 * * *"
        preview = api.post(f"{W}/schedules/preview", json={"schedule": "0 0 31 4,6 *", "timezone": "UTC"})
        assert (preview.status_code, preview.text) == (400, "cron expression '0 0 31 4,6 *' never fires: "
                                                             "April and June have no 31st day")
    finally:
        api.delete(f"{W}/schedules/delete/{path}")


def test_a_stored_schedule_that_cannot_fire_shows_why_and_the_server_keeps_scheduling(api, app_server):
    ensure_flow(api, DOUBLE)
    path = "f/tests/sched_stored_never"
    with Store.open(app_server.db_url) as store:  # as a release that accepted such expressions stored it
        store.save_schedule(path, schedule="0 0 31 2 *", script_path=DOUBLE["path"], args={"x": 1})
    try:
        deadline, got = time.monotonic() + 20, {}
        while time.monotonic() < deadline and not got.get("error"):
            got = api.get(f"{W}/schedules/get/{path}").json()
            time.sleep(0.2)
        assert got["error"] == "cron expression '0 0 31 2 *' never fires: February has no 31st day"
        time.sleep(2.5)  # a few more ticks of the scheduler (one a second)
        assert api.get(f"{W}/schedules/runs/{path}").json() == []
        said = [line for line in app_server.log_path.read_text(errors="replace").splitlines() if path in line]
        assert len(said) == 1 and "skipped until its expression is changed" in said[0], said
    finally:
        api.delete(f"{W}/schedules/delete/{path}")


def test_a_schedule_fires_through_the_running_server(api):
    ensure_flow(api, DOUBLE)
    path = "f/tests/sched_every_second"
    assert api.post(f"{W}/schedules/create", json=body(path, schedule="* * * * * *", timezone="UTC")).status_code == 201
    try:
        deadline = time.monotonic() + 30
        runs = []
        while time.monotonic() < deadline:
            runs = api.get(f"{W}/schedules/runs/{path}").json()
            if any(r["status"] == "success" for r in runs):
                break
            time.sleep(0.2)
        done = [r for r in runs if r["status"] == "success"]
        assert done, runs
        assert done[0]["result"] == {"doubled": 8}
        assert len({r["id"] for r in runs}) == len(runs)
    finally:
        api.delete(f"{W}/schedules/delete/{path}")
