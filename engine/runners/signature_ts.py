"""JSON Schema of a TypeScript/JavaScript script's exported `main`, by parsing its text.

A small scanner, not a TypeScript compiler: it finds `export [async] function main(...)`
(or `export const main = (...) =>`), splits the parameter list at top-level commas and
reads each `name?: Type = default`. Types understood: string, number, boolean, Date,
`T[]`, `Array<T>`, `Record<K, V>`, object literal types, unions of literals (enums),
`| undefined` / `| null`, and type aliases or interfaces declared in the same script.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from engine.errors import ScriptLoadError
from engine.runners.signature_python import object_schema

_IDENT = r"[A-Za-z_$][\w$]*"
_GENERICS = r"(?:<[^>(]*>)?"


@lru_cache(maxsize=8)
def _declarations(name: str) -> tuple[list[re.Pattern[str]], list[re.Pattern[str]], re.Pattern[str]]:
    """Patterns of function `name`: exported, declared locally, named in an export list.

    Only `main` may be the default export (the runner falls back to it for main alone).
    """
    default = r"(?:default\s+)?" if name == "main" else ""
    exported = [
        re.compile(rf"\bexport\s+{default}(?:async\s+)?function\s*\*?\s*{name}\s*{_GENERICS}\s*\("),
        re.compile(
            rf"\bexport\s+(?:const|let|var)\s+{name}\s*(?::[^=]*)?=\s*(?:async\s*)?"
            rf"(?:function\s*\*?\s*(?:{_IDENT})?\s*)?{_GENERICS}\s*\("
        ),
    ]
    local = [
        re.compile(rf"\b(?:async\s+)?function\s*\*?\s*{name}\s*{_GENERICS}\s*\("),
        re.compile(
            rf"\b(?:const|let|var)\s+{name}\s*(?::[^=]*)?=\s*(?:async\s*)?"
            rf"(?:function\s*\*?\s*(?:{_IDENT})?\s*)?{_GENERICS}\s*\("
        ),
    ]
    return exported, local, re.compile(rf"\bexport\s*\{{[^}}]*\b{name}\b[^}}]*\}}")


_PARAM_NAME = re.compile(rf"(?:(?:public|private|readonly)\s+)*({_IDENT})\s*(\?)?")
_OPEN, _CLOSE = "([{<", ")]}>"
_SCALARS = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "bigint": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "object": {"type": "object"},
    "Date": {"type": "string", "format": "date-time"},
}


@dataclass
class TsParam:
    """One parameter of main as written."""

    name: str
    type_text: str | None
    optional: bool
    default_text: str | None


def strip_comments(source: str) -> str:
    """The source with comments blanked out (same length and lines); strings are kept."""
    out, i, n = [], 0, len(source)
    while i < n:
        char = source[i]
        if char in "'\"`":
            end = _string_end(source, i)
            out.append(source[i:end])
            i = end
        elif source.startswith("//", i):
            end = source.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", source[i:end]))
            i = end
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _string_end(text: str, start: int) -> int:
    """Index just past the string literal opening at `start`."""
    quote, i = text[start], start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote or (quote != "`" and text[i] == "\n"):
            return i + 1
        i += 1
    return len(text)


def _scan(text: str, start: int = 0):
    """Yield (index, char, depth) for characters outside strings; `=>` never closes."""
    depth, i = 0, start
    while i < len(text):
        char = text[i]
        if char in "'\"`":
            i = _string_end(text, i)
            continue
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE and not (char == ">" and i > 0 and text[i - 1] == "="):
            depth -= 1
        yield i, char, depth
        i += 1


def _matching(text: str, open_index: int) -> int:
    """Index of the bracket closing the one at `open_index`, or -1."""
    for i, _char, depth in _scan(text, open_index):
        if depth == 0:
            return i
    return -1


def split_top(text: str, separators: str) -> list[str]:
    """Split at separators outside strings and brackets."""
    parts, start = [], 0
    for i, char, depth in _scan(text):
        if depth == 0 and char in separators:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _top_assign(text: str) -> int:
    """Index of the `=` that starts a default value, outside brackets, or -1."""
    for i, char, depth in _scan(text):
        if depth == 0 and char == "=":
            before, after = text[i - 1 : i], text[i + 1 : i + 2]
            if after not in ("=", ">") and before not in ("=", "!", "<", ">"):
                return i
    return -1


def blank_strings(text: str) -> str:
    """`text` with the insides of string literals blanked (same length and lines)."""
    out, i = [], 0
    while i < len(text):
        if text[i] in "'\"`":
            end = _string_end(text, i)
            inside = re.sub(r"[^\n]", " ", text[i + 1 : end - 1])
            out.append(text[i] + inside + text[end - 1] if end - i > 1 else text[i])
            i = end
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def find_main_params(source: str, name: str = "main") -> tuple[int, str] | None:
    """Where exported function `name` (main) starts and the text of its parameter list, or None."""
    text = strip_comments(source)
    code = blank_strings(text)  # to search: `main` in a string literal is no declaration
    exported, local, export_list = _declarations(name)
    patterns = list(exported)
    if export_list.search(code):
        patterns += local
    for pattern in patterns:
        match = pattern.search(code)
        if match:
            close = _matching(text, match.end() - 1)
            if close > 0:
                return match.start(), text[match.end() : close]
    return None


def parse_params(params_text: str) -> list[TsParam]:
    """Each named parameter of a parameter list, in order (rest and patterns skipped)."""
    params = []
    for raw in split_top(params_text, ","):
        raw = raw.strip()
        match = _PARAM_NAME.match(raw)
        if not raw or raw.startswith("...") or not match:
            continue
        rest = raw[match.end() :].strip()
        type_text = default_text = None
        assign = _top_assign(rest)
        if assign >= 0:
            default_text = rest[assign + 1 :].strip()
            rest = rest[:assign].strip()
        if rest.startswith(":"):
            type_text = rest[1:].strip()
        params.append(TsParam(match[1], type_text, bool(match[2]), default_text))
    return params


def ts_param_names(content: str, entry: str = "main") -> list[str | None]:
    """Exported main's (or `entry`'s) parameters in declaration order ([] without it).

    Each is its name, or None for a destructured one (`{a, b}: Options`), which
    takes no argument but keeps its place so later parameters get theirs.
    """
    found = find_main_params(content, entry)
    if found is None:
        return []
    names: list[str | None] = []
    for raw in split_top(found[1], ","):
        raw = raw.strip()
        if raw.startswith("..."):
            break
        if raw:
            match = _PARAM_NAME.match(raw)
            names.append(match[1] if match else None)
    return names


def exports_function(content: str, name: str) -> bool:
    """Whether the script exports a function called `name`."""
    return find_main_params(content, name) is not None


def check_ts(language: str, content: str) -> None:
    """Raise ScriptLoadError unless the script exports a function `main`."""
    if find_main_params(content) is None:
        raise ScriptLoadError(
            f"{language} script exports no function main; add "
            "`export async function main(...) { ... }`: the step calls it with its "
            "arguments and returns its result"
        )


def ts_schema(content: str, entry: str = "main") -> dict:
    """JSON Schema of exported main's (or `entry`'s) arguments; a script without it takes none."""
    found = find_main_params(content, entry)
    properties: dict[str, dict] = {}
    required: list[str] = []
    if found is not None:
        types = _TypeReader(strip_comments(content))
        docs = jsdoc_params(content, found[0])
        for param in parse_params(found[1]):
            schema, optional = types.schema(param.type_text) if param.type_text else ({}, False)
            schema = dict(schema)
            if param.default_text is not None:
                optional = True
                known, value = literal_value(param.default_text)
                if known and not schema:
                    schema = _schema_of_value(value)
                if known and value is not None:
                    schema["default"] = value
            if param.name in docs:
                schema["description"] = docs[param.name]
            properties[param.name] = schema
            if not (optional or param.optional):
                required.append(param.name)
    return object_schema(properties, required)


class _TypeReader:
    """Turns type expressions into JSON Schema, resolving the script's own type names."""

    def __init__(self, text: str):
        self.aliases = _declared_types(text)
        self._resolving: set[str] = set()

    def schema(self, text: str) -> tuple[dict, bool]:
        """The schema of a type, and whether it admits undefined/null."""
        text = text.strip().removeprefix("|").strip()
        members = [m.strip() for m in split_top(text, "|")]
        if len(members) > 1:
            return self._union(members)
        if text.startswith("(") and _matching(text, 0) == len(text) - 1:
            return self.schema(text[1:-1])
        if text.startswith("readonly "):
            return self.schema(text[len("readonly ") :])
        return self._single(text), False

    def _union(self, members: list[str]) -> tuple[dict, bool]:
        rest = [m for m in members if m not in ("undefined", "null", "void")]
        optional = len(rest) < len(members)
        literals = [literal_value(m) for m in rest]
        if rest and all(known and not m[0].isalpha() for (known, _), m in zip(literals, rest)):
            values = [value for _, value in literals]
            kind = _schema_of_value(values[0])
            if all(_schema_of_value(v) == kind for v in values):
                return {**kind, "enum": values}, optional
        if len(rest) == 1:
            schema, inner = self.schema(rest[0])
            return schema, optional or inner
        schemas = [self.schema(m)[0] for m in rest]
        if any(not schema for schema in schemas):
            return {}, optional
        return {"anyOf": schemas}, optional

    def _single(self, text: str) -> dict:
        if text in _SCALARS:
            return dict(_SCALARS[text])
        if text.endswith("[]"):
            return {"type": "array", "items": self.schema(text[:-2])[0]}
        if text.startswith("{") and _matching(text, 0) == len(text) - 1:
            return self._object(text[1:-1])
        if text.startswith("[") and _matching(text, 0) == len(text) - 1:
            return {"type": "array"}
        generic = re.fullmatch(rf"({_IDENT})\s*<(.*)>", text, re.DOTALL)
        if generic:
            return self._generic(generic[1], [a.strip() for a in split_top(generic[2], ",")])
        known, value = literal_value(text)
        if known and text[:1] in "'\"`":
            return {"type": "string", "enum": [value]}
        if known and isinstance(value, (int, float)) and not isinstance(value, bool):
            return {"type": "number", "enum": [value]}
        return self._named(text)

    def _generic(self, name: str, args: list[str]) -> dict:
        if name in ("Array", "ReadonlyArray", "Set") and args:
            return {"type": "array", "items": self.schema(args[0])[0]}
        if name in ("Record", "Map") and len(args) == 2:
            values = self.schema(args[1])[0]
            return {"type": "object", **({"additionalProperties": values} if values else {})}
        if name in ("Partial", "Readonly", "Required") and args:
            return self.schema(args[0])[0]
        return {}

    def _named(self, name: str) -> dict:
        if name not in self.aliases or name in self._resolving:
            return {}
        self._resolving.add(name)
        try:
            return self.schema(self.aliases[name])[0]
        finally:
            self._resolving.discard(name)

    def _object(self, body: str) -> dict:
        properties: dict[str, dict] = {}
        required: list[str] = []
        for member in split_top(body, ";,\n"):
            match = re.match(rf"\s*(?:readonly\s+)?({_IDENT}|\"[^\"]*\"|'[^']*')\s*(\?)?\s*:", member)
            if not match:
                continue
            name = match[1].strip("'\"")
            properties[name] = self.schema(member[match.end() :])[0]
            if not match[2]:
                required.append(name)
        return {"type": "object", "properties": properties, "required": required}


def _declared_types(text: str) -> dict[str, str]:
    """`type X = ...` and `interface X { ... }` declared in the script, as type text."""
    found: dict[str, str] = {}
    for match in re.finditer(rf"\binterface\s+({_IDENT})\s*{_GENERICS}\s*(?:extends[^{{]*)?\{{", text):
        close = _matching(text, match.end() - 1)
        if close > 0:
            found[match[1]] = text[match.end() - 1 : close + 1]
    for match in re.finditer(rf"\btype\s+({_IDENT})\s*{_GENERICS}\s*=", text):
        found[match[1]] = _alias_text(text, match.end())
    return found


def _alias_text(text: str, start: int) -> str:
    """The type of an alias: up to a top-level `;`, or a line end not continuing it."""
    for i, char, depth in _scan(text, start):
        if depth != 0:
            continue
        if char == ";":
            return text[start:i]
        if char == "\n":
            ahead, before = text[i + 1 :].lstrip(), text[start:i].rstrip()
            if before and not ahead.startswith(("|", "&")) and not before.endswith(("|", "&", "=")):
                return text[start:i]
    return text[start:]


def literal_value(text: str) -> tuple[bool, Any]:
    """The value of a literal (number, string, boolean, null, JSON-like array/object)."""
    text = re.sub(r"\s+as\s+const\s*$", "", text.strip())
    if text in ("true", "false", "null"):
        return True, {"true": True, "false": False, "null": None}[text]
    if re.fullmatch(r"-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        number = float(text)
        return True, int(number) if number.is_integer() and re.fullmatch(r"-?\d+", text) else number
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        if text[0] == "`" and "${" in text:
            return False, None
        try:
            return True, ast.literal_eval(text[0] == "`" and repr(text[1:-1]) or text)
        except (ValueError, SyntaxError):
            return False, None
    if text[:1] in "[{":
        return _json_like(text)
    return False, None


def _json_like(text: str) -> tuple[bool, Any]:
    for candidate in (text, _quote_keys(text)):
        try:
            return True, json.loads(candidate)
        except ValueError:
            continue
    return False, None


def _quote_keys(text: str) -> str:
    """Make a JS object literal JSON: quote bare keys, single-quoted strings, drop trailing commas."""
    text = re.sub(r"'((?:[^'\\]|\\.)*)'", lambda m: json.dumps(m[1]), text)
    text = re.sub(rf"([{{,]\s*)({_IDENT})\s*:", r'\1"\2":', text)
    return re.sub(r",\s*([}\]])", r"\1", text)


def _schema_of_value(value: Any) -> dict:
    for kind, name in ((bool, "boolean"), ((int, float), "number"), (str, "string"),
                       (list, "array"), (dict, "object")):
        if isinstance(value, kind):
            return {"type": name}
    return {}


_JSDOC_PARAM = re.compile(rf"@param\s+(?:\{{[^}}]*\}}\s*)?\[?({_IDENT})[^\s\]]*\]?\s*-?\s*(.*)")


def jsdoc_params(source: str, main_start: int) -> dict[str, str]:
    """Descriptions from the `/** ... @param name text */` comment right before main."""
    before = source[:main_start].rstrip()
    if not before.endswith("*/"):
        return {}
    start = before.rfind("/**")
    if start < 0:
        return {}
    docs: dict[str, str] = {}
    for line in before[start + 3 : -2].splitlines():
        match = _JSDOC_PARAM.search(line.strip().lstrip("*").strip())
        if match:
            docs[match[1]] = match[2].strip()
    return docs
