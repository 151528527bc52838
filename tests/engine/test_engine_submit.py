"""Engine.submit and Engine.submit_many: checked args, queued runs."""

from __future__ import annotations

import pytest

from engine import ArgsValidationError, Engine, Store
from tests.flowkit import flow, py

SCHEMA = {"type": "object", "properties": {"x": {"type": "integer", "default": 0}}}
DOCUMENT = flow(py("a", "def main(x):\n    return x\n", x="js:flow_input.x"), schema=SCHEMA)


@pytest.fixture
def engine(tmp_path):
    store = Store.open(tmp_path / "millrace.db")
    yield Engine(store=store)
    store.close()


def test_submit_many_queues_one_run_per_args_with_defaults_filled_in(engine):
    ids = engine.submit_many(DOCUMENT, [{"x": 1}, None, {"x": 3}], path="f/load")
    runs = [engine.store.get_run(run_id) for run_id in ids]
    assert [run.args for run in runs] == [{"x": 1}, {"x": 0}, {"x": 3}]
    assert {(run.status, run.path, run.kind, run.tag) for run in runs} == {("queued", "f/load", "flow", "flow")}
    assert runs[0].flow == engine.store.get_run(engine.submit(DOCUMENT, {"x": 1})).flow


def test_submit_many_queues_nothing_when_one_args_breaks_the_schema(engine):
    with pytest.raises(ArgsValidationError):
        engine.submit_many(DOCUMENT, [{"x": 1}, {"x": "two"}])
    assert engine.store.count_runs() == 0


def test_submit_and_restart_start_the_run_state_with_what_the_caller_gives(engine):
    run_id = engine.submit(DOCUMENT, {"x": 1}, state={"started_by": "ann"})
    assert engine.store.get_run(run_id).state == {"started_by": "ann"}
    engine.store.save_step(run_id, "a", step_id="a", status="success", result=1)
    again = engine.restart(run_id, "a", state={"started_by": "bo", "from_key": "not this"})
    assert engine.store.get_run(again).state == {"started_by": "bo", "restarted_from": run_id, "from_key": "a"}


def test_submit_queues_scripts_and_scheduled_firings_in_their_workspace(engine):
    from engine import script_flow_value

    script = script_flow_value("python3", "def main(x):\n    return x\n", {"x": 1})
    run_id = engine.submit(script, {"x": 1}, kind="script", path="u/me/s", trigger="ui", workspace="team")
    run = engine.store.get_run(run_id)
    assert (run.kind, run.path, run.trigger, run.workspace, run.status) == ("script", "u/me/s", "ui", "team", "queued")
    firing = engine.submit(DOCUMENT, {"x": 2}, run_id="sched-1", exist_ok=True, schedule_id="f/s", scheduled_for=5.0)
    assert engine.submit(DOCUMENT, {"x": 9}, run_id="sched-1", exist_ok=True) == firing  # a firing queued once
    fired = engine.store.get_run(firing)
    assert (fired.args, fired.schedule_id, fired.scheduled_for, fired.workspace) == ({"x": 2}, "f/s", 5.0, "main")


def test_a_run_submitted_held_by_a_worker_is_claimed_by_no_other(engine):
    run_id = engine.submit(DOCUMENT, {"x": 1}, held_by="w-here")
    run = engine.store.get_run(run_id)
    assert (run.status, run.worker_id) == ("running", "w-here")
    assert engine.store.claim_run("w-other", now=engine.clock.now() + 60) is None


def test_rerun_and_restart_need_a_run_with_a_flow(engine):
    from engine import BadInput, NotFound

    with pytest.raises(NotFound, match="run 'nope' not found"):
        engine.rerun("nope")
    refused = engine.store.create_run(kind="flow", path="f/gone", status="failure",
                                      error={"name": "NotFound", "message": "no flow at f/gone"}).id
    with pytest.raises(BadInput, match=f"run {refused} has no flow to run again: it failed before it started"):
        engine.rerun(refused)
    again = engine.store.get_run(engine.rerun(engine.submit(DOCUMENT, {"x": 4}), state={"started_by": "cy"}))
    assert (again.args, again.trigger, again.state, again.status) == ({"x": 4}, "rerun", {"started_by": "cy"}, "queued")
