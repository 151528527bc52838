"""The resource value form and the custom type check, as pure functions (no server)."""

from __future__ import annotations

from app.states.resource_types import field_summary, schema_problem
from app.states.resources import parse_json, parse_value
from engine.resources import BUILTIN_TYPES

POSTGRES = BUILTIN_TYPES["postgresql"]


def test_bad_port_is_reported_at_the_port_field():
    value, errors = parse_value(POSTGRES, {"host": "h", "dbname": "d", "port": "x", "_resource_path": "u/a/b"})
    assert errors == {"port": "must be a whole number"}
    assert value == {"host": "h", "dbname": "d"}


def test_good_fields_become_a_typed_value_and_blank_optional_fields_are_left_out():
    value, errors = parse_value(POSTGRES, {"host": "h", "dbname": "d", "port": "5432", "user": ""})
    assert errors == {} and value == {"host": "h", "dbname": "d", "port": 5432}


def test_missing_required_field_is_reported_at_that_field():
    assert parse_value(POSTGRES, {"host": "h"})[1] == {"dbname": "is required"}


def test_references_are_kept_as_text_in_string_fields_and_are_not_format_checked():
    schema = {"type": "object", "properties": {"to": {"type": "string", "format": "email"},
                                               "port": {"type": "integer"}}}
    value, errors = parse_value(schema, {"to": "$var:u/admin/mail", "port": "$res:u/admin/port"})
    assert errors == {} and value == {"to": "$var:u/admin/mail", "port": "$res:u/admin/port"}


def test_raw_json_reports_where_it_breaks():
    assert parse_json('{"a": [1]}') == ({"a": [1]}, "")
    value, problem = parse_json("[1, 2")
    assert value is None and problem.startswith("not valid JSON") and "column" in problem


def test_custom_type_schema_must_be_a_json_schema_object():
    assert schema_problem({"type": "object", "properties": {"k": {"type": "string"}}}) == ""
    assert "not a valid JSON Schema" in schema_problem({"properties": {"k": {"type": "text"}}})
    assert "at schema.properties.k.type" in schema_problem({"properties": {"k": {"type": "text"}}})
    assert "must be a JSON object" in schema_problem([1, 2])


def test_field_summary_names_each_field_its_type_and_whether_it_is_required():
    assert field_summary(POSTGRES).startswith("host (string, required), port (integer)")
    assert field_summary({}) == "any value"
    assert field_summary({"properties": {"x": {"type": ["string", "null"]}}}) == "x (string|null)"
