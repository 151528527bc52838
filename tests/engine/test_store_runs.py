from __future__ import annotations

import dataclasses

import pytest

from engine.errors import BadInput, NotFound
from engine.store import Run, Store
from tests.pg import pg_database, pg_url  # noqa: F401
from tests.store_fixtures import store  # noqa: F401

FIVE_MB = 5 * 2**20


def test_new_run_is_queued_with_defaults(store: Store) -> None:
    run = store.create_run(kind="flow", path="f/demo/hello", args={"n": 1})
    assert len(run.id) == 32
    assert run.status == "queued"
    assert run.workspace == "main"
    assert run.created_at == run.scheduled_for == store.clock.now()
    assert run.root_run_id == run.id
    assert run.state == {}
    assert store.get_run(run.id) == run


def test_run_lifecycle_from_queued_to_success(store: Store) -> None:
    flow = {"modules": [{"id": "a", "value": {"type": "identity"}}]}
    run = store.create_run(kind="flow", path="f/x", flow=flow, tag="flow", trigger="cli")
    store.update_run(run.id, status="running", started_at=10.0, state={"cursor": 1})
    done = store.finish_run(run.id, "success", result={"ok": [1, 2]}, finished_at=12.5)
    assert (done.status, done.result, done.error) == ("success", {"ok": [1, 2]}, None)
    assert (done.started_at, done.finished_at) == (10.0, 12.5)
    again = store.get_run(run.id)
    assert again is not None
    assert again.flow == flow and again.state == {"cursor": 1} and again.trigger == "cli"


def test_finish_run_records_the_error_and_defaults_finished_at_to_now(store: Store) -> None:
    run = store.create_run(kind="script", path="u/me/s")
    error = {"name": "ValueError", "message": "bad", "stack": "", "step_id": "a"}
    done = store.finish_run(run.id, "failure", error=error)
    assert done.error == error
    assert done.finished_at == store.clock.now()


def test_finish_run_without_reading_back_records_the_same_and_keeps_a_cancel(store: Store) -> None:
    run = store.create_run(kind="flow", path="f/x", args={"n": 1})
    store.update_run(run.id, status="running", started_at=10.0)
    assert store.finish_run(run.id, "success", result={"ok": 1}, finished_at=12.5, returning=False) is None
    done = store.get_run(run.id)
    assert (done.status, done.result, done.error, done.finished_at) == ("success", {"ok": 1}, None, 12.5)
    canceled = store.create_run(kind="flow", path="f/x", status="canceled")
    store.finish_run(canceled.id, "failure", error={"name": "E", "message": "m"}, returning=False)
    assert store.get_run(canceled.id).status == "canceled"
    with pytest.raises(NotFound, match="ghost"):
        store.finish_run("ghost", "success", returning=False)


def test_finish_run_refuses_a_status_that_is_not_final(store: Store) -> None:
    run = store.create_run(kind="script", path="u/me/s")
    with pytest.raises(ValueError, match="success, failure or canceled"):
        store.finish_run(run.id, "running")


def test_unknown_status_is_refused(store: Store) -> None:
    run = store.create_run(kind="script", path="u/me/s")
    with pytest.raises(ValueError, match="unknown status 'done'"):
        store.update_run(run.id, status="done")


def test_get_run_of_unknown_id_is_none(store: Store) -> None:
    assert store.get_run("nope") is None


def test_update_of_unknown_run_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="nope"):
        store.update_run("nope", status="running")


def test_update_of_unknown_field_raises_type_error(store: Store) -> None:
    run = store.create_run(kind="flow", path="f/x")
    with pytest.raises(TypeError, match="colour"):
        store.update_run(run.id, colour="red")


def test_duplicate_run_id_is_bad_input(store: Store) -> None:
    store.create_run(kind="flow", path="f/x", id="fixed")
    with pytest.raises(BadInput, match="fixed"):
        store.create_run(kind="flow", path="f/x", id="fixed")


def test_exist_ok_returns_the_existing_run_unchanged(store: Store) -> None:
    first = store.create_run(kind="flow", path="f/x", id="firing-1", args={"a": 1})
    store.clock.advance(5)
    second = store.create_run(kind="flow", path="f/x", id="firing-1", args={"a": 2}, exist_ok=True)
    assert second == first


def test_child_runs_share_the_root_of_their_parent(store: Store) -> None:
    top = store.create_run(kind="flow", path="f/top")
    child = store.create_run(kind="flow", path="f/child", parent_run_id=top.id)
    grandchild = store.create_run(kind="script", path="u/s", parent_run_id=child.id)
    assert child.root_run_id == grandchild.root_run_id == top.id
    assert [r.id for r in store.list_runs(parent_run_id=child.id)] == [grandchild.id]


def test_five_megabyte_result_is_stored_whole(store: Store) -> None:
    result = {"blob": "é" * (FIVE_MB // 2), "rows": [{"i": i, "x": i / 3} for i in range(2000)]}
    run = store.create_run(kind="script", path="u/big")
    store.finish_run(run.id, "success", result=result)
    loaded = store.get_run(run.id)
    assert loaded is not None
    assert loaded.result == result


def test_json_values_round_trip_exactly(store: Store) -> None:
    args = {"text": "ünïcødé ✓", "nested": {"list": [1, 2.5, None, True, "s"]}, "empty": {}}
    run = store.create_run(kind="flow", path="f/x", args=args, state={"k": [[]]})
    loaded = store.get_run(run.id)
    assert loaded is not None
    assert (loaded.args, loaded.state) == (args, {"k": [[]]})


def test_scalar_results_round_trip(store: Store) -> None:
    for value in (0, "text", [None], 1.25, False):
        run = store.create_run(kind="script", path="u/s")
        assert store.finish_run(run.id, "success", result=value).result == value
        loaded = store.get_run(run.id)
        assert loaded is not None and loaded.result == value


def test_returned_runs_stay_usable_after_the_store_closes(store: Store) -> None:
    run = store.create_run(kind="flow", path="f/x", args={"a": 1})
    listed = store.list_runs()
    store.close()
    run.status = "running"
    assert run.args == {"a": 1} and run.status == "running"
    assert dataclasses.asdict(listed[0])["path"] == "f/x"


def _runs_at(store: Store, specs: list[tuple[str, str]]) -> list[Run]:
    runs = []
    for path, status in specs:
        runs.append(store.create_run(kind="flow", path=path, status=status))
        store.clock.advance(10)
    return runs


def test_list_runs_is_newest_first_and_pages(store: Store) -> None:
    runs = _runs_at(store, [("f/a", "queued")] * 5)
    newest_first = [r.id for r in reversed(runs)]
    assert [r.id for r in store.list_runs()] == newest_first
    assert [r.id for r in store.list_runs(limit=2, offset=1)] == newest_first[1:3]
    assert store.count_runs() == 5


def test_list_runs_filters_by_path_status_and_time(store: Store) -> None:
    runs = _runs_at(
        store,
        [("f/a", "success"), ("f/b", "suspended"), ("f/a", "failure"), ("f/a", "suspended")],
    )
    assert [r.id for r in store.list_runs(path="f/a")] == [runs[3].id, runs[2].id, runs[0].id]
    assert [r.id for r in store.list_runs(status="suspended")] == [runs[3].id, runs[1].id]
    both = store.list_runs(status=["success", "failure"])
    assert [r.id for r in both] == [runs[2].id, runs[0].id]
    window = store.list_runs(since=runs[1].created_at, until=runs[3].created_at)
    assert [r.id for r in window] == [runs[2].id, runs[1].id]
    assert store.count_runs(path="f/a", status="suspended") == 1


def test_list_runs_filters_by_workspace(store: Store) -> None:
    store.create_run(kind="flow", path="f/a")
    other = store.create_run(kind="flow", path="f/a", workspace="team")
    assert [r.id for r in store.list_runs(workspace="team")] == [other.id]


def test_delete_run_takes_its_journal_and_logs(store: Store) -> None:
    run = store.create_run(kind="flow", path="f/x")
    store.save_step(run.id, "a", status="success")
    store.append_logs(run.id, "a", [(1.0, "stdout", "hi")])
    assert store.delete_run(run.id) is True
    assert store.load_steps(run.id) == {}
    assert store.get_logs(run.id) == []
    assert store.delete_run(run.id) is False


def test_unknown_kind_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="kind"):
        store.create_run(kind="app", path="x")


def test_create_runs_queues_many_in_one_go_in_order(store: Store) -> None:
    ids = store.create_runs([{"kind": "flow", "path": "f/x", "args": {"n": n}, "tag": "flow"} for n in range(3)])
    runs = [store.get_run(run_id) for run_id in ids]
    assert [run.args for run in runs] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert {(run.status, run.tag, run.root_run_id == run.id) for run in runs} == {("queued", "flow", True)}
    assert store.create_runs([]) == []


def test_create_runs_with_an_existing_id_queues_none(store: Store) -> None:
    taken = store.create_run(kind="script", path="u/s").id
    with pytest.raises(BadInput):
        store.create_runs([{"kind": "script", "path": "u/s", "id": "fresh"}, {"kind": "script", "path": "u/s", "id": taken}])
    assert store.get_run("fresh") is None


def test_create_runs_gives_children_their_parents_root(store: Store) -> None:
    root = store.create_run(kind="flow", path="f/root")
    child = store.create_run(kind="flow", path="f/child", parent_run_id=root.id)
    [grandchild] = store.create_runs([{"kind": "flow", "path": "f/g", "parent_run_id": child.id}])
    assert store.get_run(grandchild).root_run_id == root.id


def test_runs_are_listed_and_counted_by_trigger_or_without_some_triggers(store: Store) -> None:
    ids = {trigger: store.create_run(kind="flow", path="f/t", trigger=trigger).id
           for trigger in ("preview", "webhook", "schedule")}
    assert [run.id for run in store.list_runs(trigger="webhook")] == [ids["webhook"]]
    assert {run.id for run in store.list_runs(not_triggers=("preview",))} == {ids["webhook"], ids["schedule"]}
    assert store.count_runs(not_triggers=("preview", "schedule")) == 1
    assert store.count_runs(trigger="cli") == 0
