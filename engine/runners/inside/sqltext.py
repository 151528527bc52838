"""Reading SQL text: its statements, and the `$1` / `$name` parameters its code uses.

Pure text functions with no imports beyond the standard library, used by the engine
(signatures, checks) and by SQL jobs inside the sandbox (splitting, renumbering). A
parameter or a `;` counts only in code: never inside a quoted string ('...'), a quoted
name ("..."), a dollar-quoted body ($$...$$, $tag$...$tag$) or a comment (-- and /* */).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

_DOLLAR_QUOTE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_POSITIONAL = re.compile(r"\$(\d+)")
_NAMED = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_CAST = re.compile(r"\s*::\s*([A-Za-z_][A-Za-z0-9_]*(?:\s+(?:precision|varying|with(?:out)?\s+time\s+zone))?"
                   r"(?:\s*\[\s*\])?)", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_ATTACH = re.compile(r"\bATTACH\s+(?:DATABASE\s+)?(?:IF\s+NOT\s+EXISTS\s+)?('(?:\$res:|res://)([^']+)')",
                     re.IGNORECASE)
# Two-word type names PostgreSQL accepts in a cast, and the name they are known by.
_LONG_TYPES = {"double precision": "double", "character varying": "varchar",
               "timestamp with time zone": "timestamptz", "timestamp without time zone": "timestamp",
               "time with time zone": "timetz", "time without time zone": "time"}


@dataclass(frozen=True)
class Placeholder:
    """One use of a parameter in the code: where it is, its key, and the cast after it."""

    start: int
    end: int
    key: str
    """The number of `$1` ("1"), or the name of `$name`."""
    cast: str | None
    """The type of a `::type` cast right after it, lower case (`text`, `int[]`), if any."""


def segments(sql: str) -> Iterator[tuple[str, int, int]]:
    """`sql` cut into ("code" | "quoted" | "comment", start, end) pieces, in order."""
    index, start, size = 0, 0, len(sql)
    while index < size:
        found = _quoted_end(sql, index)
        if found is None:
            index += 1
            continue
        kind, end = found
        if index > start:
            yield "code", start, index
        yield kind, index, end
        index = start = end
    if start < size:
        yield "code", start, size


def code_spans(sql: str) -> Iterator[tuple[int, int]]:
    """The (start, end) spans of `sql` that are code: not strings, quoted names or comments."""
    return ((start, end) for kind, start, end in segments(sql) if kind == "code")


def strip_comments(sql: str) -> str:
    """`sql` without its comments."""
    return "".join(sql[start:end] for kind, start, end in segments(sql) if kind != "comment")


def _quoted_end(sql: str, index: int) -> tuple[str, int] | None:
    """What starts at `index` ("quoted" or "comment") and where it ends; None for code."""
    char = sql[index]
    if char in "'\"":
        return "quoted", _closing_quote(sql, index, char)
    if sql.startswith("--", index):
        end = sql.find("\n", index)
        return "comment", len(sql) if end < 0 else end
    if sql.startswith("/*", index):
        end = sql.find("*/", index + 2)
        return "comment", len(sql) if end < 0 else end + 2
    if char == "$" and (index == 0 or not (sql[index - 1].isalnum() or sql[index - 1] == "_")):
        match = _DOLLAR_QUOTE.match(sql, index)
        if match:
            end = sql.find(match.group(0), match.end())
            return "quoted", len(sql) if end < 0 else end + len(match.group(0))
    return None


def _closing_quote(sql: str, index: int, quote: str) -> int:
    """The end of a quoted string or name; a doubled quote inside does not close it."""
    position = index + 1
    while True:
        end = sql.find(quote, position)
        if end < 0:
            return len(sql)
        if sql.startswith(quote * 2, end):
            position = end + 2
            continue
        return end + 1


def split_statements(sql: str) -> list[str]:
    """The statements of a script, split at the `;` of its code; blank ones (or only comments) left out."""
    statements, start = [], 0
    for span_start, span_end in code_spans(sql):
        cut = sql.find(";", span_start, span_end)
        while cut >= 0:
            statements.append(sql[start:cut + 1])
            start = cut + 1
            cut = sql.find(";", start, span_end)
    statements.append(sql[start:])
    return [statement for statement in statements if _has_code(statement)]


def _has_code(statement: str) -> bool:
    return any(statement[start:end].strip(" \t\r\n;") for start, end in code_spans(statement))


def placeholders(sql: str, named: bool = False) -> list[Placeholder]:
    """Every parameter the code uses, in order: `$1` (PostgreSQL) or `$name` (DuckDB)."""
    pattern = _NAMED if named else _POSITIONAL
    found = []
    for start, end in code_spans(sql):
        for match in pattern.finditer(sql, start, end):
            before = sql[match.start() - 1] if match.start() else ""
            if before.isalnum() or before == "_":
                continue  # part of a name, such as a$1
            cast = _CAST.match(sql, match.end())
            found.append(Placeholder(match.start(), match.end(), match.group(1), _type_name(cast.group(1)) if cast else None))
    return found


def _type_name(text: str) -> str:
    words = _SPACES.sub(" ", text.strip().lower())
    array = words.endswith("]")
    base = words.rstrip("[] ").strip()
    base = _LONG_TYPES.get(base, base)
    return base + "[]" if array else base


def renumber(statement: str, numbers: dict[str, int]) -> str:
    """`statement` with each `$n` of its code replaced by `$numbers[n]`."""
    parts, last = [], 0
    for use in placeholders(statement):
        parts += [statement[last:use.start], f"${numbers[use.key]}"]
        last = use.end
    return "".join(parts) + statement[last:]


def attach_references(sql: str) -> list[tuple[int, int, str]]:
    """The resources DuckDB code attaches, as Windmill writes it (`ATTACH '$res:path' AS db
    (TYPE postgres)`, or `'res://path'`): (start, end) of each quoted reference, and its path."""
    code = list(code_spans(sql))
    found = []
    for match in _ATTACH.finditer(sql):
        if any(start <= match.start() < end for start, end in code):
            found.append((match.start(1), match.end(1), match.group(2).strip()))
    return found
