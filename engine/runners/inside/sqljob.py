"""Running one SQL job (PostgreSQL or DuckDB) in this process, inside the sandbox; never
imported by the engine.

The job JSON is a Python job's (pyjob.py) whose "sql" holds the plan the engine made
(engine/runners/sql.py): {"dialect", "content", "params": [{"key", "name", "type"}],
"values": {key: JSON value}, "database": a postgresql resource or null, "attach":
{resource path: value}, "collection"}. Each statement of the script runs on its own, with
only the parameters it uses bound (never formatted in); the result is collected as
Windmill collects it (`collect`).
"""

from __future__ import annotations

import os
import re
import socket
from typing import Any, Callable

import pyjob
import sqltext
import sqlvalues
from pyjob import JobError

STATEMENT_QUOTE = 200
CONNECT_TIMEOUT = 10
# A DuckDB job leaves this much of its memory cap to everything but DuckDB's buffers.
DUCKDB_MEMORY_SHARE = 0.75
_UNDECLARED = {"name": "?", "type": "text", "kind": "text"}


def run_job(conn: socket.socket, job: dict) -> None:
    """Run the job's SQL and report its result (or its error) on `conn`."""
    plan = job["sql"]
    run = run_postgres if plan["dialect"] == "postgresql" else run_duckdb
    pyjob.answer(conn, job, lambda: collect(plan["collection"], run(plan, job["memory_mb"])))


# --- PostgreSQL -------------------------------------------------------------------------

def run_postgres(plan: dict, memory_mb: int) -> list[list[dict]]:
    """Every statement's rows, each statement run on one connection in autocommit."""
    import psycopg
    from psycopg.types.string import TextLoader

    params = {param["key"]: param for param in plan["params"]}
    settings = connection_settings(plan["database"])
    secrets = passwords([plan["database"]])
    try:
        conn = psycopg.connect(**settings, autocommit=True, cursor_factory=psycopg.RawCursor)
    except psycopg.Error as exc:
        where = f"{settings['host']}:{settings['port']}/{settings['dbname']}"
        raise JobError(type(exc).__name__, scrub(f"cannot connect to PostgreSQL at {where}: {_first_line(exc)}",
                                                 secrets)) from None
    with conn:
        conn.adapters.register_loader("interval", TextLoader)  # PostgreSQL's own text: `1 day 02:00:00`
        cursor = conn.cursor()
        results = []
        for index, statement in enumerate(statements(plan["content"]), 1):
            uses = sorted({use.key for use in sqltext.placeholders(statement)}, key=int)
            numbers = {key: position for position, key in enumerate(uses, 1)}
            values = [sqlvalues.pg_parameter(params.get(key, _UNDECLARED), plan["values"].get(key)) for key in uses]
            try:
                cursor.execute(sqltext.renumber(statement, numbers), values)
                results.append(_rows(cursor.description, cursor.fetchall) if cursor.description else [])
            except psycopg.Error as exc:
                raise _statement_error(exc, index, statement, secrets) from None
    return results


def connection_settings(database: Any) -> dict[str, Any]:
    """libpq settings from a postgresql resource, with Windmill's defaults."""
    if not isinstance(database, dict) or not database.get("host") or not database.get("dbname"):
        raise JobError("BadInput", "the database must be a postgresql resource (an object with at least host and dbname)")
    return {"host": str(database["host"]), "port": int(database.get("port") or 5432),
            "dbname": str(database["dbname"]), "user": str(database.get("user") or "postgres"),
            "password": str(database.get("password") or ""), "sslmode": str(database.get("sslmode") or "prefer"),
            "connect_timeout": CONNECT_TIMEOUT, "application_name": "millrace"}


# --- DuckDB -----------------------------------------------------------------------------

def run_duckdb(plan: dict, memory_mb: int) -> list[list[dict]]:
    """Every statement's rows, on an in-memory database (ATTACH brings files and resources)."""
    import duckdb

    params = {param["key"]: param for param in plan["params"]}
    secrets = passwords(plan["attach"].values())
    db = duckdb.connect(":memory:", config=duckdb_settings(duckdb.__file__, memory_mb))
    try:
        results = []
        for index, statement in enumerate(statements(plan["content"]), 1):
            uses = sorted({use.key for use in sqltext.placeholders(statement, named=True)})
            values = {key: sqlvalues.duckdb_parameter(params.get(key, _UNDECLARED), plan["values"].get(key))
                      for key in uses}
            text = attach_resources(statement, plan["attach"])
            try:
                db.execute(text, values) if values else db.execute(text)
                results.append(_rows(db.description, db.fetchall) if db.description else [])
            except duckdb.Error as exc:
                raise _statement_error(exc, index, statement, secrets) from None
        return results
    finally:
        db.close()


def duckdb_settings(module_file: str, memory_mb: int) -> dict[str, str]:
    """DuckDB's settings in a job: extensions only from the installed packages (no
    downloads), memory within the job's cap."""
    site = os.path.dirname(os.path.dirname(os.path.abspath(module_file)))
    return {"extension_directory": os.path.join(site, "duckdb_ext", "extensions"),
            "autoinstall_known_extensions": "false", "autoload_known_extensions": "true",
            "memory_limit": f"{max(int(memory_mb * DUCKDB_MEMORY_SHARE), 64)}MB"}


def attach_resources(statement: str, resources: dict[str, Any]) -> str:
    """`statement` with each `ATTACH '$res:path'` naming the resource's connection string."""
    parts, last = [], 0
    for start, end, path in sqltext.attach_references(statement):
        settings = connection_settings(resources.get(path))
        conninfo = " ".join(f"{key}={_libpq_quote(value)}" for key, value in settings.items())
        parts += [statement[last:start], "'" + conninfo.replace("'", "''") + "'"]
        last = end
    return "".join(parts) + statement[last:]


def _libpq_quote(value: Any) -> str:
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


# --- shared -----------------------------------------------------------------------------

def statements(content: str) -> list[str]:
    """The script's statements, in order, without the blank lines around them (so that a
    database's `LINE n` counts from the statement's first line)."""
    return [statement.strip() for statement in sqltext.split_statements(content)]


def _rows(description: Any, fetch: Callable[[], list[tuple]]) -> list[dict]:
    """The rows of the last statement as objects named by their columns, cells as JSON."""
    columns = [column[0] for column in description]
    json_columns = {i for i, column in enumerate(description) if str(column[1]).upper() == "JSON"}
    rows = []
    for row in fetch():
        cells = [sqlvalues.parse_json_text(cell) if i in json_columns else cell for i, cell in enumerate(row)]
        rows.append({name: sqlvalues.to_json(cell) for name, cell in zip(columns, cells)})
    return rows


def _statement_error(exc: Exception, index: int, statement: str, secrets: list[str]) -> JobError:
    """A database's error naming the statement it came from, without the passwords it was
    given (DuckDB quotes a failed ATTACH's whole connection string)."""
    text = re.sub(r"\s+", " ", sqltext.strip_comments(statement)).strip()
    quoted = text if len(text) <= STATEMENT_QUOTE else text[:STATEMENT_QUOTE] + "…"
    return JobError(type(exc).__name__, scrub(f"{_first_line(exc)} (statement {index}: {quoted})", secrets),
                    scrub(str(exc), secrets))


def passwords(resources: Any) -> list[str]:
    """The passwords of the resources a job connects with."""
    return [str(value["password"]) for value in resources if isinstance(value, dict) and value.get("password")]


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every secret in it replaced by `***`."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def collect(strategy: str, results: list[list[dict]]) -> Any:
    """Shape every statement's rows as the script's `-- result_collection=` asks; "legacy"
    (the default): one statement gives its rows, several give a list of each one's rows."""
    last_only = strategy.startswith("last_statement") or (strategy == "legacy" and len(results) == 1)
    first_row = "_first_row" in strategy
    if last_only:
        results = results[-1:]
    if strategy.endswith("_scalar"):
        results = [[_scalar(row) for row in rows] for rows in results]
    if first_row:
        heads = [rows[0] if rows else None for rows in results]
        return (heads[0] if heads else None) if last_only else heads
    if last_only:
        return results[0] if results else None
    return results


def _scalar(row: dict) -> Any:
    if not row:
        raise JobError("ValueError", "a scalar result needs a column, and a row has none")
    return next(iter(row.values()))
