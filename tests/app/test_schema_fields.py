"""A flow's input schema as field rows and back: round trips, edits and problems."""

from __future__ import annotations

import pytest

from components import schema_fields as sf

RICH = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "order": ["email", "n", "tags", "mode", "any"],
    "required": ["email", "mode"],
    "properties": {
        "email": {"type": "string", "format": "email", "default": "a@b.c", "description": "who",
                  "minLength": 3, "x-ui": {"placeholder": "you@example.com"}},
        "n": {"type": "integer", "default": 3, "enum": [1, 2, 3]},
        "tags": {"type": "array", "items": {"type": "string"}, "default": ["x"]},
        "mode": {"type": "string", "enum": ["fast", "slow"], "pattern": "^[a-z]+$", "description": ""},
        "any": {"type": ["string", "null"], "default": None},
    },
}


def test_round_trip_keeps_every_key_known_or_not():
    schema, problems = sf.to_schema(sf.to_rows(RICH), RICH)
    assert problems == {}
    assert schema == RICH


@pytest.mark.parametrize("prop", [
    {"type": "string", "default": 5},          # a default of another type
    {"type": "string", "default": ""},         # an empty default is still a default
    {"type": "integer", "format": "int32"},    # a format on a non-string
    {"description": 7},
    {},
])
def test_odd_properties_survive_a_round_trip(prop):
    schema = {"type": "object", "properties": {"f": prop}, "required": []}
    assert sf.to_schema(sf.to_rows(schema), schema)[0] == schema


def test_rows_follow_order_then_the_rest_and_show_values_as_text():
    schema = {"properties": {"b": {"type": "boolean", "default": True}, "a": {"type": "object"}}, "order": ["a"]}
    rows = sf.to_rows(schema)
    assert [(r["index"], r["name"], r["type"], r["default"]) for r in rows] == [("0", "a", "object", ""),
                                                                                  ("1", "b", "boolean", "true")]
    assert rows[0]["format"] == sf.NO_FORMAT and rows[0]["required"] == "false"


def test_add_email_field_with_default_and_required():
    rows = sf.add_field(sf.to_rows(sf.empty_schema()))
    assert rows[0]["name"] == "field_1" and rows[0]["type"] == "string"
    for key, text in [("name", "email"), ("format", "email"), ("default", "ada@example.com"),
                      ("required", "true"), ("description", "where to write")]:
        rows = sf.set_field(rows, "0", key, text)
    schema, problems = sf.to_schema(rows, sf.empty_schema())
    assert problems == {}
    assert schema["properties"] == {"email": {"type": "string", "format": "email", "default": "ada@example.com",
                                              "description": "where to write"}}
    assert schema["required"] == ["email"]
    assert schema["$schema"] == sf.empty_schema()["$schema"]


def test_rename_and_remove_keep_the_rest():
    rows = sf.to_rows(RICH)
    rows = sf.set_field(rows, "1", "name", "count")
    rows = sf.remove_field(rows, "2")
    schema, _ = sf.to_schema(rows, RICH)
    assert list(schema["properties"]) == ["email", "count", "mode", "any"]
    assert schema["order"] == ["email", "count", "mode", "any"]
    assert schema["properties"]["count"] == RICH["properties"]["n"]
    assert [row["index"] for row in rows] == ["0", "1", "2", "3"]


def test_new_names_do_not_clash():
    rows = sf.add_field(sf.add_field([]))
    rows = sf.remove_field(rows, "0")
    assert [row["name"] for row in sf.add_field(rows)] == ["field_2", "field_1"]


def test_format_and_pattern_only_apply_to_strings():
    rows = sf.set_field(sf.set_field(sf.add_field([]), "0", "format", "ipv4"), "0", "pattern", r"^\d")
    rows = sf.set_field(rows, "0", "type", "integer")
    assert sf.to_schema(rows)[0]["properties"]["field_1"] == {"type": "integer"}


def test_changing_a_foreign_type_replaces_it():
    rows = sf.set_field(sf.to_rows(RICH), "4", "type", "number")
    schema, problems = sf.to_schema(rows, RICH)
    assert schema["properties"]["any"] == {"type": "number"}
    assert problems == {"4": "default: 'null' is not a number"}


def test_enum_from_commas_or_json_typed_by_field():
    assert sf.parse_enum("1, 2, 3", "integer") == ([1, 2, 3], "")
    assert sf.parse_enum("red, green", "string") == (["red", "green"], "")
    assert sf.parse_enum('["a, b", "c"]', "string") == (["a, b", "c"], "")
    assert sf.parse_enum("1, x", "integer")[1] == "'x' is not an integer"


def test_bad_default_and_bad_names_are_problems_not_crashes():
    rows = sf.set_field(sf.set_field(sf.add_field([]), "0", "type", "integer"), "0", "default", "ten")
    rows = sf.add_field(rows)
    rows = sf.set_field(rows, "1", "name", "field_1")
    rows = sf.set_field(sf.add_field(rows), "2", "name", " ")
    schema, problems = sf.to_schema(rows)
    assert problems == {"0": "default: 'ten' is not an integer",
                        "1": "another field is already called 'field_1'", "2": "a field needs a name"}
    assert schema["properties"] == {"field_1": {"type": "integer"}}


def test_values_parse_by_type():
    assert sf.parse_value("3.5", "number") == (3.5, "")
    assert sf.parse_value("true", "boolean") == (True, "")
    assert sf.parse_value('{"a": 1}', "object") == ({"a": 1}, "")
    assert sf.parse_value("[1]", "object")[1] == "'[1]' is not an object"
    assert sf.parse_value("42", "string") == ("42", "")


def test_unknown_row_key_is_refused():
    with pytest.raises(ValueError, match="unknown field key"):
        sf.set_field(sf.add_field([]), "0", "minLength", "3")
