"""How pages present engine records (pure functions, no server)."""

from __future__ import annotations

from app.views import present


def test_duration_reads_in_seconds_minutes_or_hours():
    assert present.duration(100.0, 100.42) == "0.42 s"
    assert present.duration(100.0, 285.0) == "3 min 05 s"
    assert present.duration(0.5, 0.5 + 2 * 3600 + 7 * 60) == "2 h 07 min"
    assert present.duration(None, 5.0) == ""


def test_long_json_is_cut_with_a_note_saying_how_much_is_left():
    text = present.pretty_json({"data": "x" * 100}, limit=20)
    assert text.startswith('{\n  "data": "xxxx')
    assert text.endswith("more characters)")
    assert present.pretty_json({"a": 1}) == '{\n  "a": 1\n}'


def test_a_huge_result_is_shown_by_its_first_items_without_writing_out_the_rest(monkeypatch):
    monkeypatch.setattr(present, "MAX_JSON_ITEMS", 3)
    assert present.pretty_json(list(range(1_000_000)), limit=10_000) == '[\n  0,\n  1,\n  2,\n  "… 999,997 more items"\n]'
    shown = present.pretty_json({"a": [1, 2], "b": 3, "c": 4})
    assert '"a": [\n    1,\n    2\n  ]' in shown and '"…": "2 more fields"' in shown


def _loop(status="success", result=None, progress=None):
    from types import SimpleNamespace

    return SimpleNamespace(key="l", step_id="l", status=status, result=result,
                           data={"progress": progress} if progress is not None else {})


def test_a_loop_is_summarised_by_its_progress_while_it_runs_and_once_it_ended():
    running = _loop("running", progress={"iterations": 1200, "statuses": {"success": 1198, "failure": 2}})
    assert present.loop_count(running) == 1200
    assert present.loop_count(running, last_shown=1249) == 1250  # the page shown may be ahead of the last save
    assert present.loop_summary(running, 1250) == "1,250 iterations: 2 failure, 1,198 success so far"
    ended = _loop(result=[1, 2, 3])  # a run made before loops kept their progress
    assert present.loop_count(ended) == 3 and present.loop_summary(ended, 3) == "3 iterations"
    assert present.loop_summary(_loop(result=[7]), 1) == "1 iteration"


def test_the_pager_of_a_loop_goes_to_the_first_previous_next_and_last_pages():
    assert present.pager(0, 5_000, 50) == {"range": "1–50 of 5,000", "first": "", "prev": "",
                                           "next": "50", "last": "4950"}
    assert present.pager(100, 5_000, 50) == {"range": "101–150 of 5,000", "first": "0", "prev": "50",
                                             "next": "150", "last": "4950"}
    assert present.pager(4950, 4_990, 50) == {"range": "4,951–4,990 of 4,990", "first": "0", "prev": "4900",
                                              "next": "", "last": ""}
    assert present.pager(0, 0, 50)["range"] == "none of 0"


def test_a_long_log_is_paged_and_a_short_one_needs_no_pager():
    assert present.log_pager(0, 12, False, 200) == {"log_range": "", "log_prev": "", "log_next": ""}
    assert present.log_pager(0, 200, True, 200) == {"log_range": "lines 1–200", "log_prev": "", "log_next": "200"}
    assert present.log_pager(400, 50, False, 200) == {"log_range": "lines 401–450", "log_prev": "200",
                                                      "log_next": ""}
    assert present.log_pager(600, 0, False, 200)["log_range"] == "no lines after 600"


def test_a_step_that_failed_in_any_iteration_of_a_loop_shows_as_a_failure_on_the_graph():
    loop = _loop(progress={"iterations": 9, "failed_steps": {"t": 1}})
    assert present.loop_failures({"l": "success", "s": "success", "t": "success"}, [loop]) == {
        "l": "success", "s": "success", "t": "failure"}


def _step(step_id, status, iteration=None, data=None):
    from types import SimpleNamespace

    return SimpleNamespace(step_id=step_id, key=step_id, status=status, iteration=iteration, data=data or {})


def test_a_step_run_in_a_loop_shows_its_most_telling_status_on_the_graph():
    steps = [_step("a", "success"), _step("s", "success", 0), _step("s", "failure", 1), _step("s", "skipped", 2),
             _step("t", "success", 0), _step("t", "running", 1)]
    assert present.step_statuses(steps) == {"a": "success", "s": "failure", "t": "running"}


def test_a_step_waiting_for_approval_shows_suspended_only_while_the_run_is_suspended():
    waiting = {"suspend": {"required": 1, "approvals": [], "deadline": 10.0}}
    approved = {"suspend": {"required": 1, "approvals": [{"approved": True}], "deadline": 10.0}}
    steps = [_step("ask", "success", data=waiting), _step("done", "success", data=approved)]
    assert present.step_statuses(steps, run_suspended=True) == {"ask": "suspended", "done": "success"}
    assert present.step_statuses(steps) == {"ask": "success", "done": "success"}


def test_an_approval_row_names_those_asked_since_its_step_started_each_once():
    from types import SimpleNamespace

    run = SimpleNamespace(id="r" * 32, path="f/x/y", kind="flow", status="suspended", trigger="api",
                          created_at=1.0, started_at=1.0, finished_at=None)
    waiting = SimpleNamespace(started_at=100.0, data={"suspend": {"required": 2, "approvals": [], "asked_at": 101.0,
                                                                  "deadline": 900.0}})
    requests = [("ann", 50.0), ("bob", 100.0), ("carol", 102.0), ("bob", 103.0)]
    row = present.approval_row(run, {"ask": waiting}, requests)
    assert row["asked_of"] == "bob, carol" and row["progress"] == "0 of 2"
    assert present.approval_row(run, {"ask": waiting})["asked_of"] == ""
