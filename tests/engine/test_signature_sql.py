"""SQL steps' signatures: read from their text as Windmill writes them, become JSON Schema
(forms); bad text is refused naming what is wrong. Also the SQL text scanner they rest on."""

from __future__ import annotations

import pytest

from engine.errors import ScriptLoadError
from engine.runners import check_script, script_schema
from engine.runners.inside import sqltext
from engine.runners.signature_sql import sql_signature

PG = """-- $1 name
-- $2 age = 42
-- $3 since = '2024-01-01'
-- $4 tags (text[])
SELECT * FROM people WHERE name = $1::TEXT AND age > $2::INT AND joined >= $3::DATE
  AND tags && $4 AND score > $5::double precision
"""


def test_postgresql_schema_has_the_database_resource_then_the_numbered_arguments():
    schema = script_schema("postgresql", PG)
    assert schema["order"] == ["database", "name", "age", "since", "tags", "$5"]
    assert schema["properties"]["database"] == {"type": "object", "format": "resource-postgresql",
                                                "description": "The PostgreSQL database the statements run on"}
    assert schema["properties"]["name"] == {"type": "string"}
    assert schema["properties"]["age"] == {"type": "integer", "default": 42}
    assert schema["properties"]["since"] == {"type": "string", "format": "date", "default": "2024-01-01"}
    assert schema["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}
    assert schema["properties"]["$5"] == {"type": "number"}
    assert schema["required"] == ["database", "name", "tags", "$5"]


@pytest.mark.parametrize(("cast", "expected"), [
    ("BIGINT", {"type": "integer"}), ("numeric", {"type": "number"}), ("boolean", {"type": "boolean"}),
    ("jsonb", {}), ("timestamptz", {"type": "string", "format": "date-time"}),
    ("timestamp with time zone", {"type": "string", "format": "date-time"}),
    ("BYTEA", {"type": "string", "contentEncoding": "base64"}), ("uuid", {"type": "string"}),
    ("int[]", {"type": "array", "items": {"type": "integer"}}),
])
def test_postgresql_casts_give_the_argument_types(cast, expected):
    assert script_schema("postgresql", f"SELECT $1::{cast}")["properties"]["$1"] == expected


def test_a_pinned_database_line_replaces_the_database_argument():
    signature = sql_signature("postgresql", "-- database f/data/warehouse\nSELECT 1")
    assert signature.database == "f/data/warehouse" and signature.resources() == ["f/data/warehouse"]
    assert "database" not in script_schema("postgresql", "-- database f/data/warehouse\nSELECT 1")["properties"]


def test_a_null_default_makes_the_argument_optional_without_a_default():
    schema = script_schema("postgresql", "-- $1 note = NULL\nSELECT $1::TEXT")
    assert schema["properties"]["note"] == {"type": "string"} and schema["required"] == ["database"]


def test_duckdb_schema_has_its_declared_named_arguments_and_no_database():
    schema = script_schema("duckdb", """
        -- $customer (varchar)
        -- $limit (integer) = 10
        -- $since (timestamp)
        -- $rows (json)
        ATTACH '$res:f/data/pg' AS pg (TYPE postgres);
        SELECT * FROM pg.orders WHERE customer = $customer AND at > $since LIMIT $limit
        """)
    assert schema["order"] == ["customer", "limit", "since", "rows"]
    assert schema["properties"]["limit"] == {"type": "integer", "default": 10}
    assert schema["properties"]["since"] == {"type": "string", "format": "date-time"}
    assert schema["properties"]["rows"] == {}
    assert schema["required"] == ["customer", "since", "rows"]


def test_duckdb_attached_resources_are_listed_for_the_engine_to_resolve():
    signature = sql_signature("duckdb", "ATTACH '$res:u/ada/pg' AS a (TYPE postgres);\n"
                                        "-- ATTACH '$res:u/ada/commented' AS c\nATTACH 'res://f/x/db' AS b (TYPE postgres)")
    assert signature.attached == ["u/ada/pg", "f/x/db"]


@pytest.mark.parametrize(("language", "content", "message"), [
    ("postgresql", "SELECT $0::INT", "uses $0: parameters are numbered from $1"),
    ("postgresql", "-- $1 a\n-- $2 a\nSELECT $1, $2", "names two arguments 'a'"),
    ("postgresql", "-- $1 database\nSELECT $1", "`database` is the step's database resource"),
    ("postgresql", "-- result_collection=everything\nSELECT 1", "result_collection='everything' is not one of legacy"),
    ("postgresql", "-- database ../etc/passwd\nSELECT 1", "the resource path '../etc/passwd' of its `-- database`"),
    ("duckdb", "SELECT $who", "uses $who but declares no `-- $who (type)` line"),
    ("duckdb", "-- $a (int)\n-- $a (text)\nSELECT $a", "declares $a twice"),
    ("duckdb", "ATTACH '$res:not a path' AS x (TYPE postgres)", "the resource path 'not a path' of its ATTACH"),
])
def test_bad_sql_text_is_refused_naming_the_problem(language, content, message):
    with pytest.raises(ScriptLoadError) as caught:
        check_script(language, content)
    assert message in str(caught.value)


def test_parameters_in_strings_comments_and_dollar_quotes_are_not_arguments():
    schema = script_schema("duckdb", "SELECT '$a', \"$b\", $$ $c $$ /* $d */ -- $e\n")
    assert schema["properties"] == {}


# --- the text scanner -----------------------------------------------------------------


def test_statements_split_at_code_semicolons_only():
    text = "SELECT ';' AS a; -- ; comment\nSELECT \"x;y\" FROM t; /* ; */ CREATE FUNCTION f() AS $body$ a; b $body$;\n-- end;"
    assert [s.strip() for s in sqltext.split_statements(text)] == [
        "SELECT ';' AS a;", "-- ; comment\nSELECT \"x;y\" FROM t;", "/* ; */ CREATE FUNCTION f() AS $body$ a; b $body$;"]


def test_placeholders_carry_their_casts_and_renumbering_keeps_the_rest():
    uses = sqltext.placeholders("SELECT $2::INT, $10::character varying, $2, a$1 FROM t")
    assert [(use.key, use.cast) for use in uses] == [("2", "int"), ("10", "varchar"), ("2", None)]
    assert sqltext.renumber("SELECT $2::INT, $10, '$2' FROM t WHERE x = $2", {"2": 1, "10": 2}) == \
        "SELECT $1::INT, $2, '$2' FROM t WHERE x = $1"
