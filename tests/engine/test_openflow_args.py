"""Args against the flow's JSON Schema: defaults filled, every error with its path."""

from __future__ import annotations

import pytest

from engine.errors import ArgsValidationError, FlowValidationError
from engine.openflow import validate_args

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "order": ["name", "count", "options"],
    "x-windmill-ui": {"columns": 2},
    "properties": {
        "name": {"type": "string", "description": "", "default": None},
        "count": {"type": "integer", "default": 3, "x-widget": "slider"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "options": {"type": "object", "properties": {"verbose": {"type": "boolean", "default": False}}},
        "db": {"type": "object", "format": "resource-postgresql"},
    },
    "required": ["name"],
}


def _issues(schema: dict, args: dict) -> list[str]:
    with pytest.raises(ArgsValidationError) as caught:
        validate_args(schema, args)
    return [str(issue) for issue in caught.value.issues]


def test_defaults_are_filled_into_a_copy():
    args = {"name": "ada"}
    filled = validate_args(SCHEMA, args)
    assert filled == {"name": "ada", "count": 3}
    assert args == {"name": "ada"}


def test_given_values_win_over_defaults():
    assert validate_args(SCHEMA, {"name": "a", "count": 7})["count"] == 7


def test_nested_object_defaults_are_filled_when_the_object_is_given():
    filled = validate_args(SCHEMA, {"name": "a", "options": {}})
    assert filled["options"] == {"verbose": False}


def test_null_defaults_are_not_filled():
    assert "name" not in validate_args({"properties": {"name": {"type": "string", "default": None}}}, {})


def test_an_empty_string_default_of_an_object_is_no_default_as_windmill_writes_it():
    schema = {"type": "object", "properties": {"o": {"type": "object", "default": ""},
                                               "s": {"type": "string", "default": ""}}}
    assert validate_args(schema, {}) == {"s": ""}
    assert validate_args(schema, {"o": {"k": 1}}) == {"o": {"k": 1}, "s": ""}


def test_a_name_listed_twice_in_required_is_required_once():
    schema = {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x", "x"]}
    assert validate_args(schema, {"x": "a"}) == {"x": "a"}
    with pytest.raises(ArgsValidationError) as refused:
        validate_args(schema, {})
    assert [str(issue) for issue in refused.value.issues] == ["args: 'x' is a required property"]
    assert schema["required"] == ["x", "x"]


def test_default_values_are_copied_not_shared():
    schema = {"properties": {"items": {"type": "array", "default": [1]}}}
    first = validate_args(schema, {})
    first["items"].append(2)
    assert validate_args(schema, {})["items"] == [1]


def test_every_error_is_reported_with_its_path():
    assert _issues(SCHEMA, {"count": "x", "tags": ["a", 2]}) == [
        "args: 'name' is a required property",
        "args.count: 'x' is not of type 'integer'",
        "args.tags[1]: 2 is not of type 'string'",
    ]


def test_windmill_extras_and_unknown_formats_do_not_break_validation():
    assert validate_args(SCHEMA, {"name": "a", "db": {"host": "x"}})["db"] == {"host": "x"}


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("email", "ada@example.com", "not-an-email"),
        ("date-time", "2024-05-01T12:30:00.25+02:00", "2024-13-01T00:00:00Z"),
        ("date-time", "2024-05-01t12:30:00z", "2024-05-01 12:30"),
        ("ipv4", "192.168.0.1", "300.1.1.1"),
        ("hostname", "api.example.com", "-bad-.example.com"),
        ("uri", "https://example.com/a?b=c%20d", "not a uri"),
        ("uri", "mailto:ada@example.com", "/relative/path"),
    ],
)
def test_formats_are_checked(fmt: str, good: str, bad: str):
    schema = {"type": "object", "properties": {"v": {"type": "string", "format": fmt}}}
    assert validate_args(schema, {"v": good}) == {"v": good}
    assert _issues(schema, {"v": bad}) == [f"args.v: {bad!r} is not a {fmt!r}"]


def test_draft_07_schemas_are_validated_as_draft_07():
    # Draft 7 ignores `prefixItems` (2020-12 only) but honours array-form `items`.
    schema = {"$schema": "http://json-schema.org/draft-07/schema#",
              "properties": {"pair": {"type": "array", "items": [{"type": "integer"}],
                                      "prefixItems": [{"type": "string"}]}}}
    assert validate_args(schema, {"pair": [1]}) == {"pair": [1]}
    assert _issues(schema, {"pair": ["a"]}) == ["args.pair[0]: 'a' is not of type 'integer'"]


def test_default_draft_is_2020_12():
    schema = {"properties": {"pair": {"type": "array", "prefixItems": [{"type": "string"}]}}}
    assert _issues(schema, {"pair": [1]}) == ["args.pair[0]: 1 is not of type 'string'"]


@pytest.mark.parametrize("schema", [None, {}])
def test_no_schema_leaves_args_unchanged(schema):
    assert validate_args(schema, {"anything": [1]}) == {"anything": [1]}


def test_none_args_are_empty_args():
    assert validate_args(SCHEMA | {"required": []}, None) == {"count": 3}


def test_args_must_be_an_object():
    assert _issues(SCHEMA, [1]) == ["args: args must be an object, got list"]


def test_an_invalid_schema_is_a_flow_error():
    with pytest.raises(FlowValidationError) as caught:
        validate_args({"properties": {"n": {"type": "integr"}}}, {})
    assert str(caught.value.issues[0]).startswith("schema.properties.n.type: invalid args schema:")


def test_an_invalid_schema_is_refused_every_time_not_only_the_first():
    # Valid schemas are checked once and remembered; an invalid one must never be.
    for _ in range(2):
        with pytest.raises(FlowValidationError):
            validate_args({"properties": {"n": {"type": "integr"}}}, {})


def test_array_errors_come_in_index_order():
    schema = {"properties": {"xs": {"type": "array", "items": {"type": "integer"}}}}
    args = {"xs": ["a"] * 12}
    assert _issues(schema, args)[:3] == [
        "args.xs[0]: 'a' is not of type 'integer'",
        "args.xs[1]: 'a' is not of type 'integer'",
        "args.xs[2]: 'a' is not of type 'integer'",
    ]
    assert _issues(schema, args)[-1] == "args.xs[11]: 'a' is not of type 'integer'"
