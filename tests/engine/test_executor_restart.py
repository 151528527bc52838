"""Restarting a run from a chosen step: what ran before it is reused, the rest runs again."""

from __future__ import annotations

import pytest

from engine.errors import NotFound
from tests.flowkit import counter_code, flow, for_loop, py


def _lines(path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _tagged(path, tag: str) -> str:
    """Python that appends `tag` to `path` and returns the input it got plus one."""
    return (f"def main(x=None):\n    print('running {tag}')\n    open({str(path)!r}, 'a').write('{tag}\\n')\n"
            "    return (x or 0) + 1\n")


def test_restart_from_a_top_level_step_reuses_the_steps_before_it(harness, tmp_path):
    marker = tmp_path / "runs.txt"
    document = flow(py("a", _tagged(marker, "a")), py("b", _tagged(marker, "b"), x="js:results.a"),
                    py("c", _tagged(marker, "c"), x="js:results.b"))
    first = harness.run(document)
    assert (first.status, first.result) == ("success", 3)
    engine = harness.engine

    new_id = engine.restart(first.run_id, "b")
    assert new_id != first.run_id
    run = engine.store.get_run(new_id)
    assert (run.status, run.args, run.trigger) == ("queued", {}, "restart")
    assert run.state == {"restarted_from": first.run_id, "from_key": "b"}
    assert sorted(engine.store.load_steps(new_id)) == ["a"]
    assert [line.line for line in engine.store.get_logs(new_id)] == ["running a"]

    again = harness.call(engine.drive(new_id))
    assert (again.status, again.result) == ("success", 3)
    assert _lines(marker) == ["a", "b", "c", "b", "c"]


def test_restart_inside_a_loop_reuses_earlier_iterations_and_reruns_the_loop_around_it(harness, tmp_path):
    marker = tmp_path / "runs.txt"
    document = flow(
        py("a", counter_code(str(marker))),
        for_loop("l", "[10, 20, 30]", [py("s", counter_code(str(marker)))]),
        py("c", counter_code(str(marker))),
    )
    first = harness.run(document)
    assert first.result == 5 and len(_lines(marker)) == 5
    engine = harness.engine

    new_id = engine.restart(first.run_id, "l/1/s")
    assert sorted(engine.store.load_steps(new_id)) == ["a", "l/0/s"]
    again = harness.call(engine.drive(new_id))
    assert again.status == "success"
    steps = engine.store.load_steps(new_id)
    # a and iteration 0 are the first run's results; iterations 1, 2 and c ran again.
    assert (steps["a"].result, steps["l/0/s"].result) == (1, 2)
    assert steps["l"].result == [2, 6, 7]
    assert again.result == 8
    assert len(_lines(marker)) == 8


def test_restart_inside_a_branch_runs_the_branch_again(harness, tmp_path):
    marker = tmp_path / "runs.txt"
    branch = {"id": "b", "value": {"type": "branchone", "default": [py("x", _tagged(marker, "x"))],
                                   "branches": [{"expr": "false", "modules": [py("y", _tagged(marker, "y"))]}]}}
    document = flow(py("a", _tagged(marker, "a")), branch)
    first = harness.run(document)
    new_id = harness.engine.restart(first.run_id, "x")
    assert sorted(harness.engine.store.load_steps(new_id)) == ["a"]
    assert harness.call(harness.engine.drive(new_id)).status == "success"
    assert _lines(marker) == ["a", "x", "x"]


def test_restart_needs_a_known_run_and_a_step_of_its_journal(harness):
    first = harness.run(flow(py("a", "def main():\n    return 1\n")))
    with pytest.raises(NotFound, match="no_such_step"):
        harness.engine.restart(first.run_id, "no_such_step")
    with pytest.raises(NotFound):
        harness.engine.restart("no-such-run", "a")
