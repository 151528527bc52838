"""The Scheduler with a fake clock: firings become runs exactly once, catch-up, on_failure."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import text

from engine import BadInput, FakeClock, NotFound, Scheduler
from engine.scheduler import firing_id
from tests.flowkit import flow, py

START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc).timestamp()
HOUR = 3600.0
SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
DOUBLE = flow(py("a", "def main(n):\n    return n * 2\n", n="js:flow_input.n"), schema=SCHEMA)
FAIL = flow(py("a", "def main():\n    raise RuntimeError('disk full')\n"))
HANDLER = "def main(error: dict, schedule_path: str, job_id: str):\n    return {'seen': error['message'], 'from': schedule_path, 'job': job_id}\n"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def scheduler(harness):
    store = harness.engine.store
    store.save_flow("f/t/double", DOUBLE)
    store.save_flow("f/t/fail", FAIL)
    store.save_script("f/t/handler", "python3", HANDLER,
                      {"type": "object", "properties": {"error": {"type": "object"}, "schedule_path": {"type": "string"},
                                                        "job_id": {"type": "string"}}})
    return Scheduler(harness.engine)


def schedule_runs(scheduler, path="f/t/hourly"):
    return scheduler.store.schedule_runs(path, limit=100)


def test_a_due_firing_becomes_one_queued_run_with_a_deterministic_id(harness, clock, scheduler):
    scheduler.save("f/t/hourly", schedule="0 * * * *", script_path="f/t/double", is_flow=True, args={"n": 21})
    assert scheduler.tick() == []
    clock.advance(HOUR + 5)
    ids = scheduler.tick()
    assert ids == [firing_id("main", "f/t/hourly", START + HOUR)]
    run = harness.engine.store.get_run(ids[0])
    assert (run.status, run.trigger, run.schedule_id, run.path, run.scheduled_for) == (
        "queued", "schedule", "f/t/hourly", "f/t/double", START + HOUR)
    assert scheduler.tick() == []
    assert harness.call(harness.engine.drive(ids[0])).result == 42
    assert [r.id for r in schedule_runs(scheduler)] == ids


def test_each_firing_runs_once_as_time_goes_on(clock, scheduler):
    scheduler.save("f/t/hourly", schedule="*/15 * * * *", script_path="f/t/double", args={"n": 1})
    for _ in range(12):
        clock.advance(5 * 60)
        scheduler.tick()
    assert len(schedule_runs(scheduler)) == 4


def test_skip_policy_drops_firings_missed_during_downtime(clock, scheduler):
    scheduler.save("f/t/hourly", schedule="0 * * * *", script_path="f/t/double", args={"n": 1}, catch_up="skip")
    clock.advance(5 * HOUR + 600)
    assert scheduler.tick() == []
    clock.advance(HOUR - 600 + 1)
    assert scheduler.tick() == [firing_id("main", "f/t/hourly", START + 6 * HOUR)]


def test_latest_policy_runs_the_latest_missed_firing_once(clock, scheduler):
    scheduler.save("f/t/hourly", schedule="0 * * * *", script_path="f/t/double", args={"n": 1}, catch_up="latest")
    clock.advance(5 * HOUR + 600)
    assert scheduler.tick() == [firing_id("main", "f/t/hourly", START + 5 * HOUR)]
    assert scheduler.tick() == []
    assert len(schedule_runs(scheduler)) == 1


def test_disabled_schedules_do_not_fire_and_re_enabling_does_not_catch_up(clock, scheduler):
    scheduler.save("f/t/hourly", schedule="0 * * * *", script_path="f/t/double", args={"n": 1}, catch_up="latest")
    scheduler.set_enabled("f/t/hourly", False)
    clock.advance(3 * HOUR)
    assert scheduler.tick() == []
    scheduler.set_enabled("f/t/hourly", True)
    assert scheduler.tick() == []


def test_a_firing_is_not_run_twice_after_a_restart_that_lost_the_cursor(harness, clock, scheduler):
    scheduler.save("f/t/hourly", schedule="0 * * * *", script_path="f/t/double", args={"n": 1})
    clock.advance(HOUR + 1)
    first = scheduler.tick()
    # As if the process died after creating the run but before moving the cursor.
    with harness.engine.store.db.transaction() as conn:
        conn.execute(text("UPDATE schedules SET checked_until = :t"), {"t": START})
    restarted = Scheduler(harness.new())
    assert restarted.tick() == first
    assert len(schedule_runs(restarted)) == 1


def test_time_zone_decides_the_firing(harness, clock, scheduler):
    scheduler.save("f/t/ny", schedule="0 9 * * *", timezone="America/New_York", script_path="f/t/double",
                   args={"n": 1})
    clock.advance(14 * HOUR - 1)
    assert scheduler.tick() == []
    clock.advance(2)
    assert scheduler.tick() == [firing_id("main", "f/t/ny", START + 14 * HOUR)]


def test_on_failure_handler_runs_once_with_the_error(harness, clock, scheduler):
    scheduler.save("f/t/failing", schedule="0 * * * *", script_path="f/t/fail", on_failure="script/f/t/handler")
    clock.advance(HOUR + 1)
    [run_id] = scheduler.tick()
    assert harness.call(harness.engine.drive(run_id)).status == "failure"
    clock.advance(1)
    assert scheduler.tick() == [f"{run_id}-onfail"]
    assert scheduler.tick() == []
    handled = harness.call(harness.engine.drive(f"{run_id}-onfail"))
    assert handled.status == "success"
    assert handled.result["seen"] == "disk full"
    assert handled.result["from"] == "f/t/failing"
    assert handled.result["job"] == run_id


def test_a_missing_target_at_firing_time_is_a_failed_run(harness, clock, scheduler):
    scheduler.save("f/t/gone", schedule="0 * * * *", script_path="f/t/double", args={"n": 1})
    harness.engine.store.delete_flow("f/t/double")
    clock.advance(HOUR + 1)
    [run_id] = scheduler.tick()
    run = harness.engine.store.get_run(run_id)
    assert run.status == "failure" and "not found" in run.error["message"]


def test_script_targets_run_as_one_step_flows(harness, clock, scheduler):
    harness.engine.store.save_script("f/t/hello", "python3", "def main(name: str):\n    return 'hi ' + name\n",
                                     {"type": "object", "properties": {"name": {"type": "string"}},
                                      "required": ["name"]})
    scheduler.save("f/t/greet", schedule="0 * * * *", script_path="f/t/hello", is_flow=False, args={"name": "ada"})
    clock.advance(HOUR + 1)
    [run_id] = scheduler.tick()
    assert harness.engine.store.get_run(run_id).kind == "script"
    assert harness.call(harness.engine.drive(run_id)).result == "hi ada"


def test_scheduled_runs_of_a_dedicated_script_share_its_warm_worker(harness, clock, scheduler):
    counter = "import uuid\nWORKER = uuid.uuid4().hex\ndef main():\n    return WORKER\n"
    harness.engine.store.save_script("f/t/warm", "python3", counter, dedicated_worker=True)
    scheduler.save("f/t/often", schedule="0 * * * *", script_path="f/t/warm", is_flow=False)
    workers = []
    for _ in range(2):
        clock.advance(HOUR + 1)
        [run_id] = scheduler.tick()
        assert harness.engine.store.get_run(run_id).flow["dedicated_worker"] is True
        workers.append(harness.call(harness.engine.drive(run_id)).result)
    assert workers[0] == workers[1]


@pytest.mark.parametrize("fields, error, fragment", [
    ({"schedule": "61 * * * *"}, BadInput, "out of range"),
    ({"schedule": "0 0 31 2 *"}, BadInput, "'0 0 31 2 \\*' never fires: February has no 31st day"),
    ({"timezone": "Nowhere/Town"}, BadInput, "unknown time zone"),
    ({"catch_up": "all"}, BadInput, "catch_up must be one of"),
    ({"on_failure": "email/me"}, BadInput, "on_failure must look like"),
    ({"on_failure": "script/f/t/nope"}, NotFound, "not found"),
    ({"script_path": "f/t/nope"}, NotFound, "not found"),
    ({"args": {"n": "x"}}, BadInput, "n"),
])
def test_saving_checks_every_field(scheduler, fields, error, fragment):
    base = {"schedule": "0 * * * *", "script_path": "f/t/double", "args": {"n": 1}}
    with pytest.raises(error, match=fragment):
        scheduler.save("f/t/bad", **{**base, **fields})
    assert scheduler.store.get_schedule("f/t/bad") is None


def test_serve_ticks_on_the_engine_clock_and_reports_what_it_submitted(harness, clock, scheduler):
    import asyncio

    scheduler.save("f/t/minutely", schedule="* * * * *", script_path="f/t/double", args={"n": 1})
    seen: list[str] = []

    async def serve_until_three():
        task = asyncio.ensure_future(scheduler.serve(interval=30, on_submit=seen.extend))
        while len(seen) < 3:
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    harness.call(asyncio.wait_for(serve_until_three(), 20))
    assert seen[:3] == [firing_id("main", "f/t/minutely", START + 60 * i) for i in (1, 2, 3)]


def scheduler_warnings(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "millrace.scheduler" and r.levelno >= logging.WARNING]


def test_a_stored_schedule_that_cannot_fire_is_marked_said_once_and_skipped(clock, scheduler, caplog):
    store = scheduler.store
    store.save_schedule("f/t/never", schedule="0 0 30 2 *", script_path="f/t/double", args={"n": 1})
    scheduler.save("f/t/hourly", schedule="0 * * * *", script_path="f/t/double", args={"n": 1})
    for _ in range(5):
        clock.advance(HOUR)
        assert [run_id.startswith("sched-") for run_id in scheduler.tick()] == [True]
    assert store.get_schedule("f/t/never").error == "cron expression '0 0 30 2 *' never fires: February has no 30th day"
    assert [(r.getMessage(), r.exc_info) for r in scheduler_warnings(caplog)] == [
        ("schedule f/t/never is skipped until its expression is changed: cron expression '0 0 30 2 *' never fires: "
         "February has no 30th day", None)]
    assert schedule_runs(scheduler, "f/t/never") == []


def test_the_mark_stays_while_the_expression_does_and_goes_with_a_new_one(clock, scheduler):
    store = scheduler.store
    store.save_schedule("f/t/never", schedule="0 0 31 4 *", script_path="f/t/double", args={"n": 1})
    scheduler.tick()
    assert store.get_schedule("f/t/never").error.endswith("April has no 31st day")
    scheduler.set_enabled("f/t/never", False)
    scheduler.set_enabled("f/t/never", True)
    assert store.get_schedule("f/t/never").error.endswith("April has no 31st day")
    scheduler.save("f/t/never", schedule="0 0 30 4 *")
    assert store.get_schedule("f/t/never").error is None


def test_another_problem_of_a_schedule_is_logged_once_not_at_every_tick(harness, clock, scheduler, caplog):
    scheduler.save("f/t/gone", schedule="0 * * * *", script_path="f/t/double", args={"n": 1},
                   on_failure="script/f/t/handler")
    harness.engine.store.delete_flow("f/t/double")
    harness.engine.store.delete_script("f/t/handler")  # its failed runs cannot be handled
    for _ in range(3):
        clock.advance(HOUR)
        scheduler.tick()
    warnings = scheduler_warnings(caplog)
    assert [(r.exc_info, "could not be served" in r.getMessage(), "f/t/handler" in r.getMessage())
            for r in warnings] == [(None, True, True)]
    assert scheduler.store.get_schedule("f/t/gone").error is None  # it can fire: not marked
