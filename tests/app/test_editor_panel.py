"""The step panel's rows and edits, and previews' documents and rows (pure parts)."""

from __future__ import annotations

import json

from app.views import preview, step_form
from app.views.flow_ops import new_module


def script(step_id: str, **transforms: dict) -> dict:
    return {"id": step_id, "value": {"type": "rawscript", "language": "python3", "content": "",
                                     "input_transforms": dict(transforms)}}


SCHEMA = {"type": "object", "order": ["name", "n", "flag", "data"], "required": ["n"], "properties": {
    "name": {"type": "string", "default": "w"}, "n": {"type": "integer"},
    "flag": {"type": "boolean", "default": False}, "data": {"type": "object"}}}


# ---- inputs ------------------------------------------------------------------------------

def test_one_row_per_parameter_with_widget_by_type():
    rows = step_form.input_rows(script("a", n={"type": "javascript", "expr": "flow_input.n"}), SCHEMA)
    assert [(r["name"], r["widget"], r["mode"], r["required"]) for r in rows] == [
        ("name", "string", "static", "false"), ("n", "number", "javascript", "true"),
        ("flag", "boolean", "static", "false"), ("data", "json", "static", "false")]
    assert rows[0]["default"] == "w" and rows[0]["unset"] == "true"
    assert rows[1]["text"] == "flow_input.n"


def test_transform_without_a_parameter_still_shows():
    rows = step_form.input_rows(script("a", extra={"type": "static", "value": 3}), SCHEMA)
    assert rows[-1]["name"] == "extra" and rows[-1]["text"] == "3"


def test_static_values_parse_by_widget():
    assert step_form.parse_static("12", "number") == (12, "")
    assert step_form.parse_static("1.5", "number") == (1.5, "")
    assert step_form.parse_static("x", "number")[1] == "'x' is not a number"
    assert step_form.parse_static('{"a": 1}', "json") == ({"a": 1}, "")
    assert step_form.parse_static("true", "boolean") == (True, "")


def test_set_input_static_and_expression():
    module, problem = step_form.set_input(script("a"), "n", "static", "4", "number")
    assert problem == "" and module["value"]["input_transforms"]["n"] == {"type": "static", "value": 4}
    module, _ = step_form.set_input(module, "n", "javascript", "results.x.n", "number")
    assert module["value"]["input_transforms"]["n"] == {"type": "javascript", "expr": "results.x.n"}


# ---- options -----------------------------------------------------------------------------

def test_options_round_trip_and_empty_removes():
    module = script("a")
    for name, text in [("retry_attempts", "3"), ("retry_seconds", "2"), ("timeout", "30"), ("sleep", "1.5"),
                       ("skip_if", "flow_input.skip"), ("stop_after_if", "result.done"),
                       ("suspend_events", "1"), ("suspend_timeout", "600"), ("continue_on_error", "true"),
                       ("mock_enabled", "true"), ("mock_value", '{"x": 1}')]:
        module, problem = step_form.set_option(module, name, text)
        assert problem == "", name
    assert module["retry"] == {"constant": {"attempts": 3, "seconds": 2}}
    assert module["timeout"] == 30 and module["sleep"] == 1.5
    assert module["skip_if"] == {"expr": "flow_input.skip"}
    assert module["suspend"] == {"required_events": 1, "timeout": 600}
    assert module["mock"] == {"enabled": True, "return_value": {"x": 1}}
    values = step_form.option_values(module)
    assert values["retry_attempts"] == "3" and values["continue_on_error"] == "true"
    for name in ("retry_attempts", "retry_seconds", "timeout", "skip_if", "suspend_events", "suspend_timeout"):
        module, _ = step_form.set_option(module, name, "")
    assert "retry" not in module and "timeout" not in module and "skip_if" not in module and "suspend" not in module


def test_bad_number_is_refused_with_a_message():
    module, problem = step_form.set_option(script("a"), "timeout", "soon")
    assert problem == "'soon' is not a number" and "timeout" not in module


# ---- loops and branches --------------------------------------------------------------------

def test_effective_defaults_when_absent():
    forloop = step_form.container_settings(new_module("forloop", "l"))
    assert forloop["skip_failures"] == "true" and forloop["explicit_skip_failures"] == "false"
    assert forloop["parallel"] == "false" and forloop["iterator"] == "[1, 2, 3]"
    assert step_form.container_settings(new_module("whileloop", "w"))["skip_failures"] == "false"
    branchall = step_form.container_settings(new_module("branchall", "b"))
    assert branchall["parallel"] == "true" and branchall["explicit_parallel"] == "false"


def test_explicit_settings_win():
    module, _ = step_form.set_container(new_module("forloop", "l"), "skip_failures", "false")
    settings = step_form.container_settings(module)
    assert settings["skip_failures"] == "false" and settings["explicit_skip_failures"] == "true"


def test_branches_edit_and_add():
    module = step_form.add_branch(new_module("branchone", "b"))
    module = step_form.set_branch(module, 1, "expr", "flow_input.big")
    rows = step_form.branch_rows(module)
    assert [r["expr"] for r in rows] == ["false", "flow_input.big"]


# ---- previews ------------------------------------------------------------------------------

def test_step_preview_mocks_earlier_results():
    document = {"schema": {"type": "object"}, "value": {"modules": [script("a"), script("b"), script("c")]}}
    flow = preview.step_document(document, "c", {"a": {"x": 1}})
    modules = flow["value"]["modules"]
    assert [m["id"] for m in modules] == ["a", "c"]
    assert modules[0]["mock"] == {"enabled": True, "return_value": {"x": 1}}
    assert flow["schema"] == {"type": "object"}


def test_step_preview_inside_a_loop_runs_one_iteration_of_the_given_value():
    inner = {"id": "l", "value": {"type": "forloopflow", "iterator": {"type": "javascript", "expr": "[1]"},
                                  "modules": [script("x"), script("y")]}}
    document = {"value": {"modules": [script("a"), inner, script("z")]}}
    flow = preview.step_document(document, "y", {"a": 1, "x": 2, "z": 3}, {"name": "ann"})
    [mock_a, once] = flow["value"]["modules"]
    assert mock_a["id"] == "a" and once["id"] == "l"
    assert once["value"]["iterator"] == {"type": "static", "value": [{"name": "ann"}]}
    assert [m["id"] for m in once["value"]["modules"]] == ["x", "y"]
    assert once["value"]["modules"][0]["mock"]["return_value"] == 2


def test_picker_in_a_loop_offers_the_iteration_and_its_fields():
    picks = preview.picks(None, [], {}, in_loop=True, iter_value={"name": "ann", "not ok": 1})
    assert [p["expr"] for p in picks] == ["flow_input.iter.value", "flow_input.iter.value.name",
                                          "flow_input.iter.index"]
    assert preview.picks(None, [], {}, in_loop=False, iter_value={"name": "ann"}) == []


def test_upto_cuts_every_enclosing_list():
    loop = {"id": "l", "value": {"type": "forloopflow", "iterator": {"type": "javascript", "expr": "[1]"},
                                 "modules": [script("x"), script("y")]}}
    document = {"value": {"modules": [script("a"), loop, script("z")], "failure_module": script("failure")}}
    cut = preview.upto_document(document, "x")
    assert [m["id"] for m in cut["value"]["modules"]] == ["a", "l"]
    assert [m["id"] for m in cut["value"]["modules"][1]["value"]["modules"]] == ["x"]
    assert "failure_module" not in cut["value"]


def test_big_result_is_cut_with_its_size():
    view = preview.result_view({"blob": "x" * 150_000})
    assert view["truncated"] == "true" and view["size"] == "150.0 KB"
    assert len(view["result"]) < 5_000
    small = preview.result_view({"a": 1})
    assert small["truncated"] == "false" and json.loads(small["result"]) == {"a": 1}


def test_events_update_one_row_per_key():
    rows = preview.apply_event([], {"kind": "step_started", "key": "a", "step_id": "a"})
    rows = preview.apply_event(rows, {"kind": "step_log", "key": "a", "data": {"line": "hi"}})
    rows = preview.apply_event(rows, {"kind": "step_finished", "key": "a",
                                      "data": {"status": "success", "result": 5, "duration": 0.25}})
    assert len(rows) == 1
    assert rows[0]["logs"] == "hi\n" and rows[0]["status"] == "success"
    assert rows[0]["result"] == "5" and rows[0]["duration"] == "250 ms"


def test_picker_offers_inputs_results_and_fields():
    picks = preview.picks({"properties": {"name": {}}}, ["a", "b"], {"a": {"greeting": "hi", "not ok": 1}})
    assert [p["expr"] for p in picks] == ["flow_input.name", "results.a", "results.a.greeting", "results.b"]


def test_picker_keeps_only_the_shape_of_big_results():
    assert preview.keep_for_picker({"k": "x" * 200_000}) == {"k": None}
