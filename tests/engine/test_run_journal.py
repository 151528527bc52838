"""Reading a run's journal in parts, as its page does: the top level, a page of a loop's
iterations, the steps that asked for approval; never the whole journal."""

from __future__ import annotations

import pytest

from engine import RunJournal
from tests.flowkit import expr_step, flow, for_loop

IDENTITY = {"id": "s", "value": {"type": "identity"}}
BRANCH = {"id": "b", "value": {"type": "branchone", "branches": [], "default": [expr_step("d", "1")]}}


@pytest.fixture
def no_full_reads(harness, monkeypatch):
    store = harness.engine.store
    monkeypatch.setattr(type(store), "load_steps", lambda *a, **k: pytest.fail("the whole journal was read"))
    return store


def test_top_level_is_the_flow_level_in_flow_order_branches_included(harness, no_full_reads):
    outcome = harness.run(flow(expr_step("a", "1"), for_loop("l", "[1, 2, 3]", [IDENTITY]), BRANCH))
    journal = RunJournal(no_full_reads, no_full_reads.get_run(outcome.run_id))
    assert [row.key for row in journal.top_level()] == ["a", "l", "b", "d"]
    assert journal.is_loop("l") and not journal.is_loop("a") and not journal.is_loop("nope")


def test_iterations_reads_one_page_of_a_loop_with_nested_loops_as_one_record(harness, no_full_reads):
    inner = for_loop("inner", "[1, 2]", [IDENTITY])
    outcome = harness.run(flow(for_loop("outer", "flow_input.items", [expr_step("t", "flow_input.iter.value"), inner])),
                          {"items": list(range(30))})
    journal = RunJournal(no_full_reads, no_full_reads.get_run(outcome.run_id))
    page = journal.iterations("outer", 10, 3)
    assert [row.key for row in page] == ["outer/10/t", "outer/10/inner", "outer/11/t", "outer/11/inner",
                                         "outer/12/t", "outer/12/inner"]
    assert [row.key for row in journal.iterations("outer/11/inner", 0, 5)] == ["outer/11/inner/0/s",
                                                                               "outer/11/inner/1/s"]
    assert journal.iterations("outer", 28, 10)[-1].key == "outer/29/inner"  # past the end: what there is
    assert journal.iterations("outer/10/t", 0, 5) == []  # not a loop


def test_approval_steps_are_read_only_when_the_flow_has_some(harness, no_full_reads, monkeypatch):
    outcome = harness.run(flow(expr_step("a", "1")))
    monkeypatch.setattr(type(no_full_reads), "load_steps_of", lambda *a, **k: pytest.fail("read for nothing"))
    assert RunJournal(no_full_reads, no_full_reads.get_run(outcome.run_id)).approval_steps() == {}
