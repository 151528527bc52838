"""Objects in generated forms, without a browser: nested fields per property, key/value
rows for free-form objects, and the args they give back."""

from __future__ import annotations

import json

from components.form_objects import pairs_text, parse_pairs
from components.schema_form import parse_form, resource_types, schema_fields

SCHEMA = {"type": "object", "required": ["order"], "properties": {
    "order": {"type": "object", "required": ["id"], "default": {"id": 7, "ship": {"city": "Oslo"}}, "properties": {
        "id": {"type": "integer"}, "rush": {"type": "boolean"},
        "ship": {"type": "object", "required": ["city"], "properties": {
            "city": {"type": "string"}, "db": {"type": "object", "format": "resource-postgresql"}}}}},
    "note": {"type": "object", "properties": {"text": {"type": "string", "minLength": 3}}},
    "tags": {"type": "object", "additionalProperties": {"type": "integer"}},
    "any": {"type": "object", "default": {"a": "x", "b": "3", "c": 3, "d": [1]}},
    "rich": {"type": "object", "additionalProperties": {"type": "array"}},
}}


def test_an_object_with_properties_becomes_a_heading_and_a_typed_field_per_property():
    fields = {f["name"]: f for f in schema_fields(SCHEMA, {"postgresql": ["f/db/main"]})}
    assert [(name, f["kind"], f["required"], f["depth"]) for name, f in fields.items()] == [
        ("order", "object", True, 0), ("order.id", "integer", True, 1), ("order.rush", "boolean", False, 1),
        ("order.ship", "object", False, 1), ("order.ship.city", "string", True, 2),
        ("order.ship.db", "resource", False, 2), ("note", "object", False, 0), ("note.text", "string", False, 1),
        ("tags", "keyvalue", False, 0), ("any", "keyvalue", False, 0), ("rich", "json", False, 0)]
    assert fields["order.id"]["value"] == "7" and fields["order.ship.city"]["value"] == "Oslo"  # the object's default
    assert fields["order.ship.db"]["options"] == ["f/db/main"]
    assert fields["tags"]["hint"] == "object, integer values, optional"
    assert resource_types(SCHEMA) == {"postgresql"}


def test_nested_fields_give_nested_args_and_an_untouched_optional_object_is_left_out():
    args, errors = parse_form(SCHEMA, {"order.id": "8", "order.ship.city": "Rome", "order.ship.db": "f/db/main",
                                       "order.rush": "on", "note.text": "", "tags": "[]", "any": ""})
    assert errors == {}
    assert args == {"order": {"id": 8, "rush": True, "ship": {"city": "Rome", "db": "$res:f/db/main"}}}


def test_required_fields_of_an_object_count_once_it_is_filled_in_and_errors_sit_at_the_inner_field():
    _, errors = parse_form(SCHEMA, {"order.id": "", "order.ship.db": "f/db/main", "note.text": "hi"})
    assert errors == {"order.id": "is required", "order.ship.city": "is required",
                      "note.text": "'hi' is too short"}


def test_key_value_rows_are_typed_by_the_objects_value_type_and_name_the_bad_entry():
    rows = json.dumps([["a", "1"], [" b ", "2"], ["", ""]])
    assert parse_form(SCHEMA, {"order.id": "1", "tags": rows}) == ({"order": {"id": 1, "rush": False},
                                                                    "tags": {"a": 1, "b": 2}}, {})
    assert parse_pairs(json.dumps([["a", "x"]]), "integer") == (None, "entry 1 (a): must be a whole number")
    assert parse_pairs(json.dumps([["a", "1"], ["a", "2"]]), "") == (None, "entry 2: the key 'a' is used twice")
    assert parse_pairs(json.dumps([["", "1"]]), "") == (None, "entry 1 needs a key")
    assert parse_pairs("{", "") == (None, "is not a list of entries")


def test_a_free_form_default_shows_as_rows_and_comes_back_unchanged():
    default = SCHEMA["properties"]["any"]["default"]
    text = pairs_text(default, "")
    assert json.loads(text) == [["a", "x"], ["b", '"3"'], ["c", "3"], ["d", "[1]"]]  # the string "3" stays a string
    assert parse_pairs(text, "") == (default, "")
    assert parse_pairs(pairs_text({"k": "3"}, "string"), "string") == ({"k": "3"}, "")


def test_a_required_free_form_object_with_no_entries_is_an_empty_object():
    schema = {"type": "object", "required": ["meta"], "properties": {"meta": {"type": "object"}}}
    assert parse_form(schema, {"meta": "[]"}) == ({"meta": {}}, {})
