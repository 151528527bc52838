"""Which languages run, and what arguments a script takes, by parsing its source."""

from __future__ import annotations

from engine.errors import ScriptLoadError
from engine.runners.bash import bash_schema
from engine.runners.signature_python import check_python, defines_function, parse_python, python_schema
from engine.runners.signature_sql import SQL_LANGUAGES, sql_schema, sql_signature
from engine.runners.signature_ts import check_ts, exports_function, ts_schema

SUPPORTED_LANGUAGES: frozenset[str] = frozenset({"python3", "bash", "bun", "deno", "nativets"}) | SQL_LANGUAGES
TS_LANGUAGES = frozenset({"bun", "deno", "nativets"})
ENTRY_LANGUAGES = TS_LANGUAGES | {"python3"}
"""Languages whose scripts are called by function name (bash runs as a whole)."""


def check_language(language: str) -> None:
    """Raise ScriptLoadError unless `language` is one Millrace runs."""
    if language not in SUPPORTED_LANGUAGES:
        supported = ", ".join(sorted(SUPPORTED_LANGUAGES))
        raise ScriptLoadError(
            f"unsupported script language {language!r}; Millrace runs: {supported}"
        )


def step_entry(language: str, content: str, *, preprocessor: bool = False) -> str:
    """The function a step calls: `main`; but a flow's preprocessor step calls its script's
    `preprocessor` function when it has one, as Windmill's preprocessors are written."""
    if preprocessor and language in ENTRY_LANGUAGES and _has_function(language, content, "preprocessor"):
        return "preprocessor"
    return "main"


def _has_function(language: str, content: str, name: str) -> bool:
    if language == "python3":
        return defines_function(content, name)
    return exports_function(content, name)


def check_script(language: str, content: str, *, preprocessor: bool = False) -> None:
    """Raise ScriptLoadError if the script cannot run as a step.

    Python must parse and define a top-level `main`; TypeScript/JavaScript must export
    a function `main`; bash needs nothing. A flow's preprocessor step (`preprocessor`
    true) may define `preprocessor` instead of `main`.

    Raises:
        ScriptLoadError: unsupported language, syntax error, or no `main`.
    """
    check_language(language)
    if language == "python3":
        parse_python(content)  # a syntax error is reported as such, whatever the step
    if language in SQL_LANGUAGES:
        sql_signature(language, content)
        return
    if preprocessor and language in ENTRY_LANGUAGES and not any(
        _has_function(language, content, name) for name in ("preprocessor", "main")
    ):
        raise ScriptLoadError(
            f"{language} preprocessor script defines no function `preprocessor` (nor `main`); "
            "add one: the step calls it with the trigger's payload and its result becomes the flow's args"
        )
    if step_entry(language, content, preprocessor=preprocessor) == "preprocessor":
        return
    if language == "python3":
        check_python(content)
    elif language in TS_LANGUAGES:
        check_ts(language, content)


def script_schema(language: str, content: str, *, preprocessor: bool = False) -> dict:
    """JSON Schema of the script's arguments, read from its source, never by running it.

    The schema is an object schema with `properties`, `required` and `order` (the
    parameter names in declaration order). A script without `main` takes no arguments.
    For a flow's preprocessor step (`preprocessor` true), the arguments are those of the
    function it calls (`step_entry`).

    Raises:
        ScriptLoadError: unsupported language, or Python that does not parse.
    """
    check_language(language)
    if language in SQL_LANGUAGES:
        return sql_schema(language, content)
    entry = step_entry(language, content, preprocessor=preprocessor)
    if language == "python3":
        return python_schema(content, entry)
    if language in TS_LANGUAGES:
        return ts_schema(content, entry)
    return bash_schema(content)
