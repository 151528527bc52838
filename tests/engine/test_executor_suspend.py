"""Suspend/approval: waiting, approvals, cancel, timeouts, restarts."""

from __future__ import annotations

import pytest

from engine import BadInput
from tests.flowkit import counter_code, expr_step, flow, py


def approval_flow(required=1, timeout=None, **suspend):
    ask = expr_step("ask", "'please'")
    ask["suspend"] = {"required_events": required, **({"timeout": timeout} if timeout else {}), **suspend}
    after = expr_step("after", "({resume: resume, resumes: resumes, approvers: approvers})")
    return flow(ask, after)


def test_suspended_run_waits_then_resume_continues_with_payload(harness):
    outcome = harness.run(approval_flow())
    assert outcome.status == "suspended"
    assert harness.engine.store.get_run(outcome.run_id).status == "suspended"
    verdict = harness.engine.resume(outcome.run_id, "r1", "alice", {"ok": True})
    assert verdict == "approved"
    done = harness.call(harness.engine.drive(outcome.run_id))
    assert done.status == "success"
    assert done.result == {"resume": {"ok": True}, "resumes": [{"ok": True}], "approvers": ["alice"]}


def test_required_events_counts_approvals_and_repeats_count_once(harness):
    outcome = harness.run(approval_flow(required=2))
    assert harness.engine.resume(outcome.run_id, "r1", "alice", 1) == "waiting"
    assert harness.engine.resume(outcome.run_id, "r1", "alice", 1) == "waiting"
    assert harness.engine.store.get_run(outcome.run_id).status == "suspended"
    assert harness.engine.resume(outcome.run_id, "r2", "bob", 2) == "approved"
    done = harness.call(harness.engine.drive(outcome.run_id))
    assert done.result["approvers"] == ["alice", "bob"]
    assert done.result["resumes"] == [1, 2]


def test_one_approver_counts_once_however_many_resume_ids_they_use(harness):
    outcome = harness.run(approval_flow(required=2))
    assert harness.engine.resume(outcome.run_id, "r1", "alice", 1) == "waiting"
    with pytest.raises(BadInput, match="alice has already decided on step ask of run .*: each approver counts once"):
        harness.engine.resume(outcome.run_id, "r2", "alice", 2)
    with pytest.raises(BadInput, match="alice has already decided"):
        harness.engine.cancel(outcome.run_id, "r3", "alice")
    assert harness.engine.store.get_run(outcome.run_id).status == "suspended"
    assert harness.engine.resume(outcome.run_id, "r4", "bob", 4) == "approved"


def test_approvals_without_a_name_count_once_per_resume_id():
    from engine.executor.suspend import decide

    state = {"required": 2, "deadline": None, "approvals": [
        {"resume_id": "r1", "approver": None, "approved": True},
        {"resume_id": "r2", "approver": None, "approved": True}]}
    assert decide(state, 0.0) == "approved"
    state["approvals"][1]["approver"] = state["approvals"][0]["approver"] = "ann"  # a journal written otherwise
    assert decide(state, 0.0) == "waiting"


def test_cancel_fails_the_run_with_suspended_disapproved(harness):
    outcome = harness.run(approval_flow())
    assert harness.engine.cancel(outcome.run_id, "r1", "carol") == "rejected"
    done = harness.call(harness.engine.drive(outcome.run_id))
    assert done.status == "failure"
    assert done.result["error"]["name"] == "SuspendedDisapproved"
    assert "carol" in done.result["error"]["message"]


def test_timeout_fails_the_run_with_suspended_timed_out(harness, clock):
    outcome = harness.run(approval_flow(timeout=60))
    clock.advance(30)
    assert harness.call(harness.engine.drive(outcome.run_id)).status == "suspended"  # not due yet
    assert harness.engine.store.get_run(outcome.run_id).status == "suspended"
    clock.advance(31)
    done = harness.call(harness.engine.drive(outcome.run_id))
    assert done.status == "failure"
    assert done.result["error"]["name"] == "SuspendedTimedOut"


def test_timeout_continues_with_form_defaults_when_configured(harness, clock):
    form = {"schema": {"properties": {"amount": {"type": "integer", "default": 10}}}}
    outcome = harness.run(approval_flow(timeout=60, continue_on_disapprove_timeout=True, resume_form=form))
    clock.advance(61)
    done = harness.call(harness.engine.drive(outcome.run_id))
    assert done.status == "success"
    assert done.result["resume"] == {"amount": 10}


def test_waiting_run_survives_a_restart_and_steps_before_do_not_rerun(harness, tmp_path):
    marker = tmp_path / "runs.txt"
    ask = py("ask", counter_code(str(marker)))
    ask["suspend"] = {"required_events": 1}
    outcome = harness.run(flow(ask, expr_step("after", "[results.ask, resume]")))
    assert outcome.status == "suspended"
    restarted = harness.new()
    restarted.resume(outcome.run_id, "r1", "dan", "go")
    done = harness.call(restarted.drive(outcome.run_id))
    assert done.status == "success" and done.result == [1, "go"]
    assert len(marker.read_text().splitlines()) == 1


def test_a_decision_goes_to_the_step_the_run_waits_on_not_an_earlier_timed_out_one(harness, clock):
    ask = expr_step("ask", "'first'")
    ask["suspend"] = {"required_events": 1, "timeout": 60, "continue_on_disapprove_timeout": True}
    escalate = expr_step("escalate", "'second'")
    escalate["suspend"] = {"required_events": 1, "timeout": 600}
    after = expr_step("after", "({approvers: approvers})")
    outcome = harness.run(flow(ask, escalate, after))
    clock.advance(61)
    waiting = harness.call(harness.engine.drive(outcome.run_id))
    assert waiting.status == "suspended"
    assert harness.engine.resume(outcome.run_id, "r1", "zoe") == "approved"
    done = harness.call(harness.engine.drive(outcome.run_id))
    assert (done.status, done.result) == ("success", {"approvers": ["zoe"]})
