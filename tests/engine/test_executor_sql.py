"""SQL steps in flows: their database is a resource, chosen statically, in a flow input
(a resource picker's `"$res:path"`), pinned in the text, or attached by DuckDB; files that
outlive a run live in the data folder every job sees at /data."""

from __future__ import annotations

from urllib.parse import urlparse

import psycopg
import pytest

from engine import ArgsValidationError, validate_args
from engine.runners import RunnerPool
from engine.runners.sandbox import SandboxPolicy
from engine.vault import Vault
from tests.flowkit import flow, transforms
from tests.pg import pg_database, pg_url  # noqa: F401  (pytest fixtures)

DB = "u/admin/warehouse"


def sql(step_id: str, language: str, content: str, **inputs):
    return {"id": step_id, "value": {"type": "rawscript", "language": language, "content": content,
                                     "input_transforms": transforms(inputs)}}


@pytest.fixture
def vault(harness, pg_database):
    url = urlparse(pg_database)
    vault = Vault.of(harness.engine.store)
    vault.set_resource(DB, {"host": url.hostname, "port": url.port, "user": url.username,
                            "dbname": url.path.lstrip("/")}, "postgresql")
    return vault


def test_a_postgresql_step_runs_on_a_static_resource_argument(harness, vault, pg_database):
    step = sql("load", "postgresql", """
        -- $1 label
        CREATE TABLE IF NOT EXISTS static_arg (label TEXT);
        INSERT INTO static_arg VALUES ($1::TEXT) RETURNING label
        """, database=f"$res:{DB}", label="from a flow")
    result = harness.run(flow(step))
    assert result.status == "success", result.error
    assert result.result == [[], [{"label": "from a flow"}]]
    with psycopg.connect(pg_database) as conn:
        assert conn.execute("SELECT label FROM static_arg").fetchall() == [("from a flow",)]


def test_a_resource_picked_as_flow_input_reaches_the_step_as_its_value(harness, vault):
    schema = {"type": "object", "properties": {"db": {"type": "object", "format": "resource-postgresql"}},
              "required": ["db"]}
    step = sql("q", "postgresql", "SELECT current_database() AS name", database="js:flow_input.db")
    result = harness.run(flow(step, schema=schema), {"db": f"$res:{DB}"})
    assert result.status == "success", result.error
    assert result.result == [{"name": vault.resource_value(DB)["dbname"]}]


def test_a_pinned_database_line_needs_no_argument(harness, vault):
    step = sql("q", "postgresql", f"-- database {DB}\n-- result_collection=last_statement_first_row_scalar\nSELECT 7 AS n")
    result = harness.run(flow(step))
    assert result.status == "success", result.error
    assert result.result == 7


def test_a_missing_pinned_resource_fails_the_step_naming_it(harness, vault):
    result = harness.run(flow(sql("q", "postgresql", "-- database u/admin/nowhere\nSELECT 1")))
    assert result.status == "failure"
    assert result.error["step_id"] == "q" and "u/admin/nowhere" in result.error["message"]


def test_duckdb_attaches_a_postgresql_resource(harness, vault, pg_database):
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (customer TEXT, amount INT)")
        conn.execute("INSERT INTO orders VALUES ('acme', 10), ('acme', 5), ('globex', 1)")
    step = sql("q", "duckdb", f"""
        -- $min (integer)
        -- result_collection=last_statement_all_rows
        ATTACH '$res:{DB}' AS pg (TYPE postgres);
        CREATE TABLE pg.public.totals AS SELECT customer, sum(amount)::INT AS total FROM pg.public.orders GROUP BY 1;
        SELECT * FROM pg.public.totals WHERE total >= $min ORDER BY customer
        """, min=2)
    result = harness.run(flow(step))
    assert result.status == "success", result.error
    assert result.result == [{"customer": "acme", "total": 15}]
    with psycopg.connect(pg_database) as conn:
        assert conn.execute("SELECT count(*) FROM totals").fetchone() == (2,)


def test_a_duckdb_file_in_the_data_folder_outlives_the_run(harness, tmp_path):
    pool = RunnerPool(policy=SandboxPolicy(data_dir=str(tmp_path / "files")))
    engine = harness.new(runners=pool)
    try:
        write = sql("w", "duckdb", "-- $n (integer)\nATTACH '/data/kept.duckdb' AS kept;\n"
                                   "CREATE TABLE IF NOT EXISTS kept.runs (n INTEGER);\nINSERT INTO kept.runs VALUES ($n)",
                    n="js:flow_input.n")
        for n in (1, 2):
            assert harness.run(flow(write), {"n": n}, engine=engine).status == "success"
        read = sql("r", "duckdb", "ATTACH '/data/kept.duckdb' AS kept;\n-- result_collection=last_statement_all_rows\n"
                                  "SELECT n FROM kept.runs ORDER BY n")
        assert harness.run(flow(read), engine=engine).result == [{"n": 1}, {"n": 2}]
        assert (tmp_path / "files" / "kept.duckdb").is_file()
    finally:
        harness.call(pool.close())


def test_resource_arguments_accept_a_reference_and_still_check_other_values():
    schema = {"type": "object", "properties": {"db": {"type": "object", "format": "resource-postgresql"}},
              "required": ["db"]}
    assert validate_args(schema, {"db": "$res:u/admin/x"}) == {"db": "$res:u/admin/x"}
    assert validate_args(schema, {"db": {"host": "h"}}) == {"db": {"host": "h"}}
    with pytest.raises(ArgsValidationError, match="is not of type 'object'"):
        validate_args(schema, {"db": "u/admin/x"})
    with pytest.raises(ArgsValidationError, match="'db' is a required property"):
        validate_args(schema, {})
