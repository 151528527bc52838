"""The schema form's fields and how submitted texts become checked args (no browser)."""

from __future__ import annotations

from engine import script_schema

from components.schema_form import parse_form, schema_fields

SIGNATURE = '''from typing import Literal, Optional
def main(n: int, flag: bool = False, color: Literal["red", "blue"] = "red",
         items: list = [], note: Optional[str] = None, ratio: float = 1.5):
    return n
'''


def test_a_script_signature_becomes_one_field_per_parameter_in_order():
    fields = schema_fields(script_schema("python3", SIGNATURE))
    assert [(f["name"], f["kind"], f["required"]) for f in fields] == [
        ("n", "integer", True), ("flag", "boolean", False), ("color", "enum", False),
        ("items", "json", False), ("note", "string", False), ("ratio", "number", False)]
    by_name = {f["name"]: f for f in fields}
    assert by_name["color"]["options"] == ["red", "blue"] and by_name["color"]["value"] == "red"
    assert by_name["items"]["value"] == "[]" and by_name["ratio"]["value"] == "1.5"
    assert by_name["note"]["hint"] == "string, optional"


def test_formats_pick_their_inputs_and_nullable_types_count_as_their_main_type():
    schema = {"properties": {"e": {"type": "string", "format": "email"}, "d": {"type": "string", "format": "date"},
                             "t": {"type": "string", "format": "date-time"}, "o": {"type": ["null", "object"]},
                             "k": {"enum": [1, 2]}}}
    assert [f["kind"] for f in schema_fields(schema)] == ["email", "date", "datetime", "keyvalue", "enum"]
    assert schema_fields(schema)[4]["options"] == ["1", "2"]


def test_an_empty_string_default_of_an_object_as_windmill_writes_it_is_no_default():
    schema = {"properties": {"o": {"type": "object", "default": ""}, "s": {"type": "string", "default": ""}}}
    assert [f["value"] for f in schema_fields(schema)] == ["", ""]
    args, errors = parse_form(schema, {"o": "", "s": ""})
    assert (args, errors) == ({}, {})


def test_submitted_texts_become_typed_args():
    schema = script_schema("python3", SIGNATURE)
    args, errors = parse_form(schema, {"n": " 3 ", "flag": "on", "color": "blue", "items": "[1, 2]",
                                       "note": "", "ratio": "2.5"})
    assert errors == {}
    assert args == {"n": 3, "flag": True, "color": "blue", "items": [1, 2], "ratio": 2.5}


def test_each_bad_value_gets_a_message_at_its_own_field():
    schema = script_schema("python3", SIGNATURE)
    _, errors = parse_form(schema, {"n": "three", "items": "[1,", "ratio": "x"})
    assert errors["n"] == "must be a whole number"
    assert errors["items"].startswith("is not valid JSON")
    assert errors["ratio"] == "must be a number"
    _, errors = parse_form(schema, {"n": ""})
    assert errors == {"n": "is required"}


def test_schema_rules_and_formats_are_checked_with_jsonschema():
    schema = {"type": "object", "properties": {
        "e": {"type": "string", "format": "email"}, "d": {"type": "string", "format": "date"},
        "t": {"type": "string", "format": "date-time"}, "k": {"type": "integer", "minimum": 3},
        "xs": {"type": "array", "items": {"type": "object"}}}}
    _, errors = parse_form(schema, {"e": "nobody", "d": "2024-13-01", "t": "tomorrow", "k": "1", "xs": '[{}, "a"]'})
    assert errors == {"e": "must be a valid email", "d": "must be a valid date",
                      "t": "must be a date and time, e.g. 2024-01-31T09:00",
                      "k": "1 is less than the minimum of 3", "xs": "[1]: 'a' is not of type 'object'"}
    args, errors = parse_form(schema, {"e": "a@b.io", "d": "2024-12-01", "t": "2024-01-01T10:00:00Z", "k": "5"})
    assert errors == {} and args["k"] == 5


PG_STEP = "-- $1 customer\n-- $2 since = '2024-01-01'\nSELECT * FROM orders WHERE customer = $1::TEXT AND day >= $2::DATE"


def test_a_postgresql_step_becomes_a_resource_picker_then_its_arguments():
    resources = {"postgresql": ["f/data/warehouse", "u/admin/scratch"]}
    fields = schema_fields(script_schema("postgresql", PG_STEP), resources)
    assert [(f["name"], f["kind"], f["required"]) for f in fields] == [
        ("database", "resource", True), ("customer", "string", True), ("since", "date", False)]
    picker = fields[0]
    assert picker["options"] == ["f/data/warehouse", "u/admin/scratch"]
    assert picker["hint"] == "postgresql resource" and picker["placeholder"] == "choose a postgresql resource…"


def test_a_resource_picker_without_resources_of_its_type_says_where_to_add_one():
    picker, = schema_fields({"properties": {"db": {"type": "object", "format": "resource-postgresql"}}},
                            {"http": ["u/admin/api"]})
    assert picker["options"] == [] and picker["placeholder"] == "no postgresql resource yet: add one under Resources"


def test_a_picked_resource_is_submitted_as_a_reference_and_passes_the_schema():
    schema = script_schema("postgresql", PG_STEP)
    args, errors = parse_form(schema, {"database": "f/data/warehouse", "customer": "acme", "since": ""})
    assert errors == {}
    assert args == {"database": "$res:f/data/warehouse", "customer": "acme"}
    _, errors = parse_form(schema, {"database": "", "customer": "acme"})
    assert errors == {"database": "is required"}


def test_a_resource_default_shows_as_its_path():
    picker, = schema_fields({"properties": {"db": {"type": "object", "format": "resource-postgresql",
                                                   "default": "$res:f/data/warehouse"}}})
    assert picker["value"] == "f/data/warehouse"


def test_a_date_time_is_picked_in_utc_and_sent_as_iso_8601():
    schema = {"properties": {"when": {"type": "string", "format": "date-time", "default": "2024-05-01T10:30:00+02:00"}},
              "required": ["when"]}
    field = schema_fields(schema)[0]
    assert (field["kind"], field["value"], field["hint"]) == ("datetime", "2024-05-01T08:30:00", "date-time, UTC")
    for picked, sent in (("2024-05-01T08:30", "2024-05-01T08:30:00Z"),
                         ("2024-05-01T08:30:15", "2024-05-01T08:30:15Z"),
                         ("2024-05-01T10:30:00+02:00", "2024-05-01T08:30:00Z"),
                         ("2024-05-01t08:30z", "2024-05-01T08:30:00Z")):
        assert parse_form(schema, {"when": picked}) == ({"when": sent}, {}), picked
    for wrong in ("soon", "2024-05-01", "2024-13-01T00:00"):
        assert parse_form(schema, {"when": wrong})[1] == {"when": "must be a date and time, e.g. 2024-01-31T09:00"}


def test_a_list_of_plain_items_is_edited_one_item_a_line_each_of_its_type():
    schema = script_schema("python3", "def main(ids: list[int], names: list[str] = ['a', 'b'], raw: list = []):\n"
                                      "    return ids\n")
    ids, names, raw = schema_fields(schema)
    assert (ids["kind"], ids["hint"], names["kind"], raw["kind"]) == ("list", "list of integer, one a line", "list",
                                                                      "json")
    assert names["value"] == "a\nb"
    args, errors = parse_form(schema, {"ids": "3\n\n 4 \n", "names": "x y\nz", "raw": ""})
    assert (args, errors) == ({"ids": [3, 4], "names": ["x y", "z"]}, {})
    assert parse_form(schema, {"ids": "3\nfour"})[1] == {"ids": "line 2: must be a whole number"}
