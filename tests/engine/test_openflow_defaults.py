"""Steps as Windmill's engine accepts them: without `id`, scripts without `input_transforms`."""

from __future__ import annotations

import itertools

from engine.openflow import dump_flow, flow_from_data, iter_modules
from engine.openflow.defaults import free_step_id, step_names, with_step_ids


def _script(code: str = "def main():\n    return 1\n") -> dict:
    return {"type": "rawscript", "language": "python3", "content": code}


def _ids(document: dict) -> list[tuple[str, str]]:
    return [(path, module.id) for path, module in iter_modules(flow_from_data(document))]


def test_steps_without_id_get_the_first_free_names_in_run_order():
    document = {"value": {"modules": [
        {"value": _script()},
        {"id": "a", "value": {"type": "identity"}},
        {"value": {"type": "forloopflow", "iterator": {"type": "static", "value": []},
                   "modules": [{"value": {"type": "identity"}}]}},
    ]}}
    assert _ids(document) == [
        ("value.modules[0]", "b"),
        ("value.modules[1]", "a"),
        ("value.modules[2]", "c"),
        ("value.modules[2].value.modules[0]", "d"),
    ]


def test_steps_in_branches_and_defaults_get_ids_too():
    branchone = {"type": "branchone", "branches": [{"expr": "true", "modules": [{"value": {"type": "identity"}}]}],
                 "default": [{"value": {"type": "identity"}}]}
    branchall = {"type": "branchall", "branches": [{"modules": [{"value": {"type": "identity"}}]}]}
    document = {"value": {"modules": [{"id": "x", "value": branchone}, {"id": "y", "value": branchall}]}}
    assert [step_id for _, step_id in _ids(document)] == ["x", "a", "b", "y", "c"]


def test_failure_and_preprocessor_steps_without_id_get_their_own_names():
    document = {"value": {"modules": [{"value": {"type": "identity"}}],
                          "failure_module": {"value": _script()},
                          "preprocessor_module": {"value": _script()}}}
    assert _ids(document) == [
        ("value.preprocessor_module", "preprocessor"),
        ("value.modules[0]", "a"),
        ("value.failure_module", "failure"),
    ]


def test_a_name_an_expression_reads_is_never_given():
    reads = {"type": "rawscript", "language": "python3", "content": "def main(x, y):\n    return x\n",
             "input_transforms": {"x": {"type": "javascript", "expr": "results.a ?? results['b']"},
                                  "y": {"type": "javascript", "expr": 'results?.["c"]'}}}
    document = {"value": {"modules": [{"value": reads}]}}
    assert _ids(document) == [("value.modules[0]", "d")]


def test_a_flow_whose_steps_all_have_ids_is_not_copied():
    document = {"value": {"modules": [{"id": "a", "value": {"type": "identity"}}]}}
    assert with_step_ids(document) is document


def test_the_given_ids_are_kept_by_a_dump_and_the_caller_data_is_not_changed():
    document = {"value": {"modules": [{"value": {"type": "identity"}}]}}
    dumped = dump_flow(flow_from_data(document))
    assert dumped == {"value": {"modules": [{"id": "a", "value": {"type": "identity"}}]}}
    assert document == {"value": {"modules": [{"value": {"type": "identity"}}]}}
    assert dump_flow(flow_from_data(dumped)) == dumped


def test_a_script_without_input_transforms_takes_none_and_a_dump_adds_none():
    document = {"value": {"modules": [{"id": "s", "value": _script()},
                                      {"id": "p", "value": {"type": "script", "path": "f/a/b"}},
                                      {"id": "f", "value": {"type": "flow", "path": "f/a/c"}}]}}
    loaded = flow_from_data(document)
    assert [module.value.input_transforms for module in loaded.value.modules] == [{}, {}, {}]
    assert dump_flow(loaded) == document


def test_step_names_follow_the_editor_and_skip_taken_and_reserved_ones():
    assert list(itertools.islice(step_names(), 28)) == [*"abcdefghijklmnopqrstuvwxyz", "aa", "ab"]
    assert free_step_id({"a", "b"}) == "c"
    assert free_step_id(set("abcdefghijklmnopqrstuvwxyz") | {"aa", "ab", "ac", "ad", "ae", "af"}) == "ag"
    up_to_dn = set(itertools.takewhile(lambda name: name != "do", step_names()))
    assert free_step_id(up_to_dn) == "dp"  # `do` is a JavaScript word: no step is called so
