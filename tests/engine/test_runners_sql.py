"""SQL steps run in the sandbox against a real PostgreSQL server and DuckDB: arguments
bound (never formatted in), several statements, rows as JSON, errors naming the statement."""

from __future__ import annotations

import base64
from urllib.parse import urlparse

import psycopg
import pytest

from engine.runners import RunnerPool
from tests.engine.runnerkit import Runner
from tests.pg import pg_database, pg_url  # noqa: F401  (pytest fixtures)


@pytest.fixture(scope="module")
def runner():
    runner = Runner(RunnerPool(max_result_bytes=100_000), "postgresql", "sql-job")
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def database(pg_database):
    """The test database as a postgresql resource's value."""
    url = urlparse(pg_database)
    return {"host": url.hostname, "port": url.port, "user": url.username, "dbname": url.path.lstrip("/")}


def pg(runner, content, database, **args):
    outcome, _ = runner.run(content, {"database": database, **args})
    return outcome


# --- PostgreSQL: arguments and results --------------------------------------------------


def test_named_arguments_are_bound_by_number_and_a_select_gives_row_objects(runner, database):
    outcome = pg(runner, """
        -- $1 name
        -- $2 age = 30
        SELECT $1::TEXT AS name, $2::INT + 1 AS next_age, $2::INT > 18 AS adult
        """, database, name="Ada")
    assert outcome.ok, outcome.error
    assert outcome.result == [{"name": "Ada", "next_age": 31, "adult": True}]


def test_types_map_to_json_as_windmill_maps_them(runner, database):
    outcome = pg(runner, """
        SELECT 12.50::NUMERIC AS exact, 1.5::FLOAT8 AS float, DATE '2024-05-01' AS day,
               TIMESTAMP '2024-05-01 10:30:00' AS local, TIMESTAMPTZ '2024-05-01 10:30:00+02' AS utc,
               '{"a": [1, {"b": null}]}'::JSONB AS doc, '[1, 2]'::JSON AS list,
               ARRAY[1, 2, 3] AS ints, ARRAY['x', NULL] AS texts, '\\x0102ff'::BYTEA AS bytes,
               'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS id, INTERVAL '1 day 2 hours' AS span,
               '10.0.0.1'::INET AS address, NULL::TEXT AS nothing, 'NaN'::FLOAT8 AS nan
        """, database)
    assert outcome.ok, outcome.error
    assert outcome.result == [{
        "exact": "12.50", "float": 1.5, "day": "2024-05-01", "local": "2024-05-01T10:30:00",
        "utc": "2024-05-01T08:30:00+00:00", "doc": {"a": [1, {"b": None}]}, "list": [1, 2],
        "ints": [1, 2, 3], "texts": ["x", None], "bytes": "\\x0102ff",
        "id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "span": "1 day 02:00:00", "address": "10.0.0.1",
        "nothing": None, "nan": "NaN",
    }]


def test_several_statements_give_the_rows_of_each(runner, database):
    outcome = pg(runner, """
        CREATE TABLE several (id INT PRIMARY KEY, label TEXT);
        INSERT INTO several VALUES (1, 'one'), (2, 'two; not a statement end');
        SELECT * FROM several ORDER BY id;
        SELECT count(*) AS n FROM several
        """, database)
    assert outcome.ok, outcome.error
    assert outcome.result == [[], [], [{"id": 1, "label": "one"}, {"id": 2, "label": "two; not a statement end"}],
                              [{"n": 2}]]


@pytest.mark.parametrize(("annotation", "expected"), [
    ("-- result_collection=last_statement_all_rows", [{"n": 1}, {"n": 2}]),
    ("-- result_collection=last_statement_first_row", {"n": 1}),
    ("-- result_collection=last_statement_first_row_scalar", 1),
    ("-- result_collection=all_statements_first_row", [{"x": "a"}, {"n": 1}]),
    ("-- return_last_result", [{"n": 1}, {"n": 2}]),
])
def test_result_collection_annotations_shape_the_result(runner, database, annotation, expected):
    outcome = pg(runner, f"{annotation}\nSELECT 'a' AS x;\nSELECT n FROM generate_series(1, 2) AS n", database)
    assert outcome.ok, outcome.error
    assert outcome.result == expected


def test_each_statement_binds_only_the_parameters_it_uses(runner, database):
    outcome = pg(runner, """
        -- $1 first
        -- $2 second
        SELECT $2::TEXT AS only_second;
        SELECT $1::TEXT || '-' || $2::TEXT AS both_
        """, database, first="a", second="b")
    assert outcome.ok, outcome.error
    assert outcome.result == [[{"only_second": "b"}], [{"both_": "a-b"}]]


def test_json_arrays_and_binary_arguments_reach_their_casts(runner, database):
    outcome = pg(runner, """
        -- $1 doc
        -- $2 tags
        -- $3 blob
        -- $4 flag
        SELECT $1::JSONB -> 'k' AS k, array_length($2::TEXT[], 1) AS n, $2::TEXT[] AS tags,
               length($3::BYTEA) AS size, $4::BOOLEAN AS flag
        """, database, doc={"k": [1, 2]}, tags=["a,b", 'quote"d', None], blob=base64.b64encode(b"\x00\x01\x02").decode(),
        flag=False)
    assert outcome.ok, outcome.error
    assert outcome.result == [{"k": [1, 2], "n": 3, "tags": ["a,b", 'quote"d', None], "size": 3, "flag": False}]


def test_a_missing_argument_is_null_and_a_declared_default_applies(runner, database):
    outcome = pg(runner, "-- $1 a\n-- $2 b = 'fallback'\nSELECT $1::TEXT IS NULL AS a_null, $2::TEXT AS b", database)
    assert outcome.result == [{"a_null": True, "b": "fallback"}]


def test_sql_injection_through_an_argument_is_inert(runner, database, pg_database):
    pg(runner, "CREATE TABLE victims (name TEXT); INSERT INTO victims VALUES ('kept')", database)
    attack = "x'; DROP TABLE victims; --"
    outcome = pg(runner, "-- $1 name\nSELECT $1::TEXT AS name, (SELECT count(*) FROM victims) AS n", database,
                 name=attack)
    assert outcome.ok, outcome.error
    assert outcome.result == [{"name": attack, "n": 1}]
    outcome = pg(runner, "-- $1 name\nINSERT INTO victims VALUES ($1) RETURNING name", database, name=attack)
    assert outcome.result == [{"name": attack}]
    with psycopg.connect(pg_database) as conn:
        assert conn.execute("SELECT name FROM victims ORDER BY name").fetchall() == [("kept",), (attack,)]


def test_dollar_quoted_bodies_and_comments_are_not_split_or_bound(runner, database):
    outcome = pg(runner, """
        CREATE FUNCTION twice(x INT) RETURNS INT AS $$ SELECT x * 2; $$ LANGUAGE sql; -- $1 in a comment; no split
        /* $2; neither */ SELECT twice(21) AS answer, '$1' AS text
        """, database)
    assert outcome.ok, outcome.error
    assert outcome.result == [[], [{"answer": 42, "text": "$1"}]]


def test_explicit_transactions_hold_across_statements(runner, database, pg_database):
    outcome = pg(runner, """
        CREATE TABLE ledger (amount INT);
        BEGIN;
        INSERT INTO ledger VALUES (1);
        INSERT INTO ledger VALUES ('not a number');
        COMMIT;
        """, database)
    assert not outcome.ok
    with psycopg.connect(pg_database) as conn:
        assert conn.execute("SELECT count(*) FROM ledger").fetchone() == (0,)


# --- PostgreSQL: failures ---------------------------------------------------------------


def test_an_error_names_the_failing_statement_and_the_servers_message(runner, database):
    outcome = pg(runner, "SELECT 1;\nSELECT *\nFROM missing_table", database)
    assert not outcome.ok
    assert outcome.error["name"] == "UndefinedTable"
    assert outcome.error["message"] == 'relation "missing_table" does not exist (statement 2: SELECT * FROM missing_table)'
    assert "LINE 2: FROM missing_table" in outcome.error["stack"]


def test_a_bad_argument_value_fails_with_postgres_saying_why(runner, database):
    outcome = pg(runner, "-- $1 n\nSELECT $1::INT AS n", database, n="twelve")
    assert outcome.error["name"] == "InvalidTextRepresentation"
    assert 'invalid input syntax for type integer: "twelve"' in outcome.error["message"]


def test_an_unreachable_server_fails_naming_where_without_the_password(runner, database):
    closed = {**database, "port": 1, "password": "hunter2-secret"}
    outcome = pg(runner, "SELECT 1", closed)
    assert outcome.error["name"] == "OperationalError"
    assert outcome.error["message"].startswith(f"cannot connect to PostgreSQL at {database['host']}:1/{database['dbname']}")
    assert "hunter2-secret" not in str(outcome.error)


@pytest.mark.parametrize(("database", "message"), [
    (None, "postgresql step has no `database` argument"),
    ("$res:u/admin/not_resolved", "`database` must be a postgresql resource"),
    ({"host": "h"}, "`database` must be a postgresql resource"),
])
def test_a_step_without_a_usable_database_fails_before_running(runner, database, message):
    outcome, _ = runner.run("SELECT 1", {} if database is None else {"database": database})
    assert outcome.error["name"] == "BadInput" and message in outcome.error["message"]


def test_a_result_over_the_limit_fails_the_step(runner, database):
    outcome = pg(runner, "SELECT repeat('x', 200000) AS big", database)
    assert outcome.error["name"] == "ResultTooLarge"


# --- DuckDB ---------------------------------------------------------------------------


def duck(runner, content, **args):
    outcome, _ = runner.run(content, args, language="duckdb")
    return outcome


def test_duckdb_named_arguments_with_types_and_defaults(runner):
    outcome = duck(runner, """
        -- $name (text)
        -- $n (integer) = 2
        -- $day (date)
        -- $tags (text[])
        SELECT $name AS name, $n * 10 AS n, $day + INTERVAL 1 DAY AS next_day, len($tags) AS tag_count
        """, name="Ada", day="2024-05-01", tags=["a", "b"])
    assert outcome.ok, outcome.error
    assert outcome.result == [{"name": "Ada", "n": 20, "next_day": "2024-05-02T00:00:00", "tag_count": 2}]


def test_duckdb_values_map_to_json(runner):
    outcome = duck(runner, """
        SELECT 1.25::DECIMAL(5, 2) AS exact, [1, 2] AS list, {'a': 1, 'b': 'x'} AS struct,
               '{"k": [true]}'::JSON AS doc, TIMESTAMPTZ '2024-05-01 10:00:00+02' AS utc, '\\x01'::BLOB AS blob
        """)
    assert outcome.ok, outcome.error
    assert outcome.result == [{"exact": "1.25", "list": [1, 2], "struct": {"a": 1, "b": "x"}, "doc": {"k": [True]},
                               "utc": "2024-05-01T08:00:00+00:00", "blob": "\\x01"}]


def test_duckdb_json_argument_loads_rows(runner):
    rows = [{"customer": "acme", "total": 12.5}, {"customer": "globex", "total": 3.0}]
    outcome = duck(runner, """
        -- $rows (json)
        -- result_collection=last_statement_all_rows
        CREATE TABLE totals AS
            SELECT * FROM (SELECT unnest(from_json($rows, '[{"customer": "VARCHAR", "total": "DOUBLE"}]'), recursive := true));
        SELECT customer, total FROM totals ORDER BY total DESC
        """, rows=rows)
    assert outcome.ok, outcome.error
    assert outcome.result == rows


def test_duckdb_is_in_memory_by_default_and_attaches_a_file_in_the_job_folder(runner):
    first = duck(runner, "ATTACH 'local.duckdb' AS local; CREATE TABLE local.t AS SELECT 42 AS x; SELECT * FROM local.t")
    assert first.ok, first.error
    assert first.result[-1] == [{"x": 42}]
    again = duck(runner, "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 't'")
    assert again.result == [{"n": 0}]  # nothing is left over from the earlier run


def test_duckdb_injection_through_an_argument_is_inert(runner):
    attack = "x'; CREATE TABLE pwned AS SELECT 1; --"
    outcome = duck(runner, """
        -- $name (text)
        SELECT $name AS name, (SELECT count(*) FROM duckdb_tables() WHERE table_name = 'pwned') AS pwned
        """, name=attack)
    assert outcome.result == [{"name": attack, "pwned": 0}]


def test_duckdb_errors_name_the_statement(runner):
    outcome = duck(runner, "SELECT 1;\nSELECT * FROM nowhere")
    assert outcome.error["name"] == "CatalogException"
    assert "nowhere" in outcome.error["message"] and "(statement 2: SELECT * FROM nowhere)" in outcome.error["message"]


def test_duckdb_argument_of_the_wrong_type_fails_naming_it(runner):
    outcome = duck(runner, "-- $n (integer)\nSELECT $n AS n", n="many")
    assert outcome.error == {"name": "TypeError", "message": "argument n is declared integer, but 'many' is not one",
                             "stack": ""}


def test_duckdb_downloads_no_extension(runner):
    outcome = duck(runner, "INSTALL spatial")
    assert not outcome.ok  # extensions come only from installed packages


def test_duckdb_attaching_an_unreachable_resource_fails_without_its_password(runner, database):
    unreachable = {**database, "port": 1, "password": "hunter2-secret"}
    outcome, _ = runner.run("ATTACH '$res:u/admin/pg' AS pg (TYPE postgres)", {}, language="duckdb",
                            resources={"u/admin/pg": unreachable})
    assert outcome.error["name"] == "IOException" and "Unable to connect to Postgres" in outcome.error["message"]
    assert "hunter2-secret" not in str(outcome.error) and "password='***'" in outcome.error["message"]
