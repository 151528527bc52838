"""Which languages run, and what arguments a script takes, by parsing its source."""

from __future__ import annotations

from engine.errors import ScriptLoadError
from engine.runners.bash import bash_schema
from engine.runners.signature_python import check_python, python_schema
from engine.runners.signature_ts import check_ts, ts_schema

SUPPORTED_LANGUAGES: frozenset[str] = frozenset({"python3", "bash", "bun", "deno", "nativets"})
TS_LANGUAGES = frozenset({"bun", "deno", "nativets"})


def check_language(language: str) -> None:
    """Raise ScriptLoadError unless `language` is one Millrace runs."""
    if language not in SUPPORTED_LANGUAGES:
        supported = ", ".join(sorted(SUPPORTED_LANGUAGES))
        raise ScriptLoadError(
            f"unsupported script language {language!r}; Millrace runs: {supported}"
        )


def check_script(language: str, content: str) -> None:
    """Raise ScriptLoadError if the script cannot run as a step.

    Python must parse and define a top-level `main`; TypeScript/JavaScript must export
    a function `main`; bash needs nothing.

    Raises:
        ScriptLoadError: unsupported language, syntax error, or no `main`.
    """
    check_language(language)
    if language == "python3":
        check_python(content)
    elif language in TS_LANGUAGES:
        check_ts(language, content)


def script_schema(language: str, content: str) -> dict:
    """JSON Schema of the script's arguments, read from its source, never by running it.

    The schema is an object schema with `properties`, `required` and `order` (the
    parameter names in declaration order). A script without `main` takes no arguments.

    Raises:
        ScriptLoadError: unsupported language, or Python that does not parse.
    """
    check_language(language)
    if language == "python3":
        return python_schema(content)
    if language in TS_LANGUAGES:
        return ts_schema(content)
    return bash_schema(content)
