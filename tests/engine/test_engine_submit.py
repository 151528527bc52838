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
