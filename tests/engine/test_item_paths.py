"""One grammar of item paths for flows, scripts, variables, resources, schedules and the
`path` of `script`/`flow` steps; every save refuses a bad path, naming it and the problem."""

from __future__ import annotations

import pytest

from engine import FlowValidationError, ItemPathError, Store, Vault, check_item_path, flow_from_data, validate_flow
from engine.item_paths import MAX_LENGTH

GOOD = ["f/examples/etl_daily", "u/admin/api_key", "f/a-b/c.d/e_f/G9", "u/ada.lovelace/x", "f/.hidden/x"]

BAD = {
    "": "it is empty",
    "f/a": "needs an owner and a name",
    "g/group/x": "must start with u/ (a user) or f/ (a folder)",
    "/etc/passwd": "must start with u/",
    "../../etc/passwd": "must start with u/",
    "f/a/../../etc/passwd": "segment 3 is '..'",
    "f/./b": "segment 2 is '.'",
    "f//b": "segment 2 is empty",
    "f/a/b/": "segment 4 is empty",
    "f/a\\..\\b": "character backslash at position 3",
    "f/a/b\0.py": "character NUL at position 5",
    "f/a/%2e%2e/b": "character '%' at position 4",
    "f/a/b c": "character space at position 5",
    "f/caf\u00e9/x": "character '\u00e9' at position 5",
    "f/a/" + "n" * MAX_LENGTH: f"more than {MAX_LENGTH}",
}


@pytest.mark.parametrize("path", GOOD)
def test_well_formed_paths_are_accepted(path):
    assert check_item_path(path) == path


@pytest.mark.parametrize("path, problem", BAD.items(), ids=[repr(p)[:30] for p in BAD])
def test_bad_paths_are_refused_naming_the_path_and_the_problem(path, problem):
    with pytest.raises(ItemPathError) as caught:
        check_item_path(path, "flow")
    message = str(caught.value)
    assert message.startswith("flow path ")
    assert problem in message
    assert "u/<user>/<name> or f/<folder>/<name>" in message
    if len(path) < 60:
        assert repr(path) in message


def test_a_long_bad_path_is_quoted_shortened():
    path = "f/" + "x" * 100_000
    message = str(pytest.raises(ItemPathError, check_item_path, path).value)
    assert len(message) < 300
    assert "characters left out" in message


def test_a_path_that_is_not_a_string_is_refused():
    with pytest.raises(ItemPathError, match="a path must be a string, got list"):
        check_item_path(["f", "a", "b"], "flow")


@pytest.fixture
def store(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'paths.db'}")
    yield store
    store.close()


def test_every_store_save_refuses_a_bad_path_and_stores_nothing(store):
    saves = {
        "flow": lambda p: store.save_flow(p, {"value": {"modules": []}}),
        "script": lambda p: store.save_script(p, "python3", "def main():\n    return 1\n"),
        "variable": lambda p: store.put_variable(p, value="v", is_secret=False, description=""),
        "resource": lambda p: store.put_resource(p, value={}, resource_type="any", description=""),
        "schedule": lambda p: store.save_schedule(p, schedule="0 * * * *", timezone="UTC",
                                                  script_path="f/t/flow", is_flow=True, args={}),
    }
    for what, save in saves.items():
        with pytest.raises(ItemPathError, match=f"^{what} path 'f/t/../x' is invalid: segment 3 is '..'"):
            save("f/t/../x")
    assert store.list_flows() == [] and store.list_scripts() == []
    assert store.list_variable_rows() == [] and store.list_resource_rows() == []
    assert store.list_schedules() == []


def test_a_schedule_must_target_an_item_path(store):
    with pytest.raises(ItemPathError, match="schedule target path '/etc/cron' is invalid"):
        store.save_schedule("f/t/nightly", schedule="0 * * * *", timezone="UTC", script_path="/etc/cron",
                            is_flow=False, args={})


def test_the_vault_refuses_bad_variable_and_resource_paths(store):
    vault = Vault(store, key="k" * 32)
    with pytest.raises(ItemPathError, match="variable path 'u/admin' is invalid"):
        vault.set_variable("u/admin", "x")
    with pytest.raises(ItemPathError, match="resource path 'f/db/..' is invalid"):
        vault.set_resource("f/db/..", {}, "any")


def test_existing_paths_of_the_examples_still_save(store):
    for path in ("f/examples/etl_daily", "f/examples/expense_approval", "f/examples/crm_sync"):
        assert store.save_flow(path, {"value": {"modules": []}}) == 1


@pytest.mark.parametrize("kind", ["script", "flow"])
def test_a_step_naming_a_bad_path_is_an_issue_at_that_step(kind):
    document = flow_from_data({"value": {"modules": [
        {"id": "ok", "value": {"type": "identity"}},
        {"id": "evil", "value": {"type": kind, "path": "../../etc/passwd", "input_transforms": {}}},
    ]}})
    with pytest.raises(FlowValidationError) as caught:
        validate_flow(document)
    [issue] = caught.value.issues
    assert issue.path == "value.modules[1].value.path"
    assert issue.message.startswith(f"{kind} path '../../etc/passwd' is invalid: it must start with u/")
