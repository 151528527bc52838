"""What a SQL step takes, read from its text as Windmill writes it; never by running it.

PostgreSQL (`postgresql`): the code uses `$1`, `$2`, ... with a cast saying the type
(`$1::TEXT`); comment lines name them and may give a default (`-- $1 name`,
`-- $2 name = default`, `-- $3 name (type)`). The database is the step's `database`
argument, a `postgresql` resource, unless a `-- database f/folder/db` line pins one.
DuckDB (`duckdb`): named parameters, each declared with its type (`-- $name (type)` or
`-- $name (type) = default`) and used as `$name`; `ATTACH '$res:path' AS db (TYPE postgres)`
attaches a postgresql resource.
Both: `-- result_collection=...` (Windmill's values) shapes the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ScriptLoadError
from engine.item_paths import path_problem
from engine.runners.inside import sqltext
from engine.runners.signature_python import object_schema

SQL_LANGUAGES = frozenset({"postgresql", "duckdb"})
COLLECTIONS = ("legacy", "last_statement_all_rows", "last_statement_first_row", "last_statement_all_rows_scalar",
               "last_statement_first_row_scalar", "all_statements_all_rows", "all_statements_first_row",
               "all_statements_all_rows_scalar", "all_statements_first_row_scalar")
DATABASE_ARG = "database"

_TYPE = r"[A-Za-z_][A-Za-z0-9_ ]*(?:\[\])?"
_PG_ARG = re.compile(rf"^[ \t]*--[ \t]*\$(\d+)[ \t]+([A-Za-z_]\w*)(?:[ \t]*\(({_TYPE})\))?(?:[ \t]*=[ \t]*(.*?))?[ \t]*$",
                     re.MULTILINE)
_DUCKDB_ARG = re.compile(rf"^[ \t]*--[ \t]*\$([A-Za-z_]\w*)[ \t]*\(({_TYPE})\)(?:[ \t]*=[ \t]*(.*?))?[ \t]*$", re.MULTILINE)
_DATABASE = re.compile(r"^[ \t]*--[ \t]*database[ \t]+(\S+)[ \t]*$", re.MULTILINE)
_COLLECTION = re.compile(r"^[ \t]*--[ \t]*result_collection[ \t]*=[ \t]*(\S*)[ \t]*$", re.MULTILINE)
_RETURN_LAST = re.compile(r"^[ \t]*--[ \t]*return_last_result[ \t]*$", re.MULTILINE)

_KINDS: dict[str, str] = {
    **dict.fromkeys(("int", "integer", "int1", "int2", "int4", "int8", "smallint", "bigint", "tinyint", "serial",
                     "serial2", "serial4", "serial8", "smallserial", "bigserial", "oid", "long", "short", "signed",
                     "ubigint", "uinteger", "usmallint", "utinyint"), "integer"),
    **dict.fromkeys(("real", "float", "float4", "float8", "double"), "float"),
    **dict.fromkeys(("numeric", "decimal"), "decimal"),
    **dict.fromkeys(("bool", "boolean", "logical"), "boolean"),
    **dict.fromkeys(("json", "jsonb"), "json"),
    **dict.fromkeys(("bytea", "blob", "binary", "varbinary"), "bytes"),
    **dict.fromkeys(("timestamp", "timestamptz", "datetime"), "timestamp"),
    "date": "date",
    **dict.fromkeys(("time", "timetz"), "time"),
}
"""What kind of value an argument of a SQL type is; any other type is text."""
_KIND_SCHEMAS: dict[str, dict[str, Any]] = {
    "integer": {"type": "integer"}, "float": {"type": "number"}, "decimal": {"type": "number"},
    "boolean": {"type": "boolean"}, "json": {}, "bytes": {"type": "string", "contentEncoding": "base64"},
    "timestamp": {"type": "string", "format": "date-time"}, "date": {"type": "string", "format": "date"},
}
"""JSON Schema of an argument by its kind; other kinds are strings."""


def value_kind(sql_type: str) -> str:
    """The kind of an argument's values (`integer`, `json`, ...; `text` for the rest); an
    array type (`int[]`) has its items' kind."""
    return _KINDS.get(sql_type.removesuffix("[]"), "text")


@dataclass(frozen=True)
class SqlParam:
    """One argument of a SQL step."""

    key: str
    """What the code writes after `$`: "1" for `$1`, the name for DuckDB's `$name`."""
    name: str
    """The argument's name (PostgreSQL: from its comment line, else `$1`)."""
    type: str
    """Its SQL type, lower case (`text`, `int[]`, `double`)."""
    default: Any = None
    has_default: bool = False


@dataclass(frozen=True)
class SqlSignature:
    """Everything a SQL step's text says about running it."""

    dialect: str
    params: list[SqlParam]
    database: str | None = None
    """The resource a `-- database path` line pins (PostgreSQL); None: the `database` argument."""
    attached: list[str] = field(default_factory=list)
    """Resources the code attaches (DuckDB's `ATTACH '$res:path'`)."""
    collection: str = "legacy"

    def resources(self) -> list[str]:
        """The resource paths the text names, which the engine resolves for the job."""
        return ([self.database] if self.database else []) + self.attached


def sql_signature(language: str, content: str) -> SqlSignature:
    """Read a SQL step's text.

    Raises:
        ScriptLoadError: a parameter numbered $0, a name given twice, a DuckDB parameter
            used without its `-- $name (type)` line, a bad pinned path or result collection.
    """
    collection = _collection(language, content)
    if language == "duckdb":
        attached = [path for _start, _end, path in sqltext.attach_references(content)]
        for path in attached:
            _check_path(language, path, "ATTACH")
        return SqlSignature(language, _duckdb_params(content), None, attached, collection)
    database = _pinned_database(content)
    params = _postgres_params(content)
    taken = [param.name for param in params] + ([] if database else [DATABASE_ARG])
    duplicate = next((name for name in taken if taken.count(name) > 1), None)
    if duplicate is not None:
        raise ScriptLoadError(f"postgresql script names two arguments {duplicate!r}"
                              + ("; `database` is the step's database resource" if duplicate == DATABASE_ARG else ""))
    return SqlSignature(language, params, database, [], collection)


def _postgres_params(content: str) -> list[SqlParam]:
    casts: dict[str, str | None] = {}
    for use in sqltext.placeholders(content):
        if use.key.lstrip("0") == "":
            raise ScriptLoadError("postgresql script uses $0: parameters are numbered from $1")
        if casts.get(use.key) is None:
            casts[use.key] = use.cast
    declared = {match[1]: match for match in _PG_ARG.finditer(content)}
    params = []
    for key in sorted(set(casts) | set(declared), key=int):
        line = declared.get(key)
        sql_type = _normal_type((line[3] if line else None) or casts.get(key) or "text")
        name = line[2] if line else f"${key}"
        params.append(_param(key, name, sql_type, line[4] if line else None))
    return params


def _duckdb_params(content: str) -> list[SqlParam]:
    params = {}
    for match in _DUCKDB_ARG.finditer(content):
        if match[1] in params:
            raise ScriptLoadError(f"duckdb script declares ${match[1]} twice")
        params[match[1]] = _param(match[1], match[1], _normal_type(match[2]), match[3])
    for use in sqltext.placeholders(content, named=True):
        if use.key not in params:
            raise ScriptLoadError(f"duckdb script uses ${use.key} but declares no `-- ${use.key} (type)` line; "
                                  f"add one (e.g. `-- ${use.key} (text)`) at the top")
    return list(params.values())


def _param(key: str, name: str, sql_type: str, default: str | None) -> SqlParam:
    if default is None:
        return SqlParam(key, name, sql_type)
    return SqlParam(key, name, sql_type, _default_value(sql_type, default.strip()), True)


def _default_value(sql_type: str, text: str) -> Any:
    """A default as written after `=`: numbers, booleans, 'quoted' text, NULL (none)."""
    kind = value_kind(sql_type)
    if text.lower() == "null":
        return None
    try:
        if kind == "integer":
            return int(text)
        if kind in ("float", "decimal"):
            return float(text)
    except ValueError:
        return text
    if kind == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    return text


def _normal_type(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower()).replace(" []", "[]")


def _pinned_database(content: str) -> str | None:
    match = _DATABASE.search(content)
    if match is None:
        return None
    path = match[1].removeprefix("$res:").removeprefix("res://")
    _check_path("postgresql", path, "`-- database`")
    return path


def _check_path(language: str, path: str, where: str) -> None:
    problem = path_problem(path)
    if problem is not None:
        raise ScriptLoadError(f"{language} script: the resource path {path!r} of its {where} is not valid: {problem}")


def _collection(language: str, content: str) -> str:
    match = _COLLECTION.search(content)
    if match is None:
        return "last_statement_all_rows" if _RETURN_LAST.search(content) else "legacy"
    if match[1] not in COLLECTIONS:
        raise ScriptLoadError(f"{language} script: result_collection={match[1]!r} is not one of {', '.join(COLLECTIONS)}")
    return match[1]


def sql_schema(language: str, content: str) -> dict:
    """JSON Schema of a SQL step's arguments: the `database` resource first (PostgreSQL,
    unless pinned), then the parameters in order."""
    signature = sql_signature(language, content)
    properties: dict[str, dict] = {}
    required = []
    if language == "postgresql" and signature.database is None:
        properties[DATABASE_ARG] = {"type": "object", "format": "resource-postgresql",
                                    "description": "The PostgreSQL database the statements run on"}
        required.append(DATABASE_ARG)
    for param in signature.params:
        properties[param.name] = _type_schema(param.type)
        if param.has_default:
            if param.default is not None:
                properties[param.name]["default"] = param.default
        else:
            required.append(param.name)
    return object_schema(properties, required)


def _type_schema(sql_type: str) -> dict[str, Any]:
    if sql_type.endswith("[]"):
        return {"type": "array", "items": _type_schema(sql_type[:-2])}
    return dict(_KIND_SCHEMAS.get(value_kind(sql_type), {"type": "string"}))
