"""JSON Schema of a Python script's `main` arguments, read from its source with `ast`.

The script is parsed, never imported: annotations and defaults are read as syntax.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from engine.errors import ScriptLoadError

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def object_schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """The JSON Schema of main's arguments, in the order main declares them."""
    return {
        "$schema": SCHEMA_DIALECT,
        "type": "object",
        "properties": properties,
        "required": required,
        "order": list(properties),
    }

_NAMED: dict[str, dict] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "list": {"type": "array"},
    "List": {"type": "array"},
    "tuple": {"type": "array"},
    "Tuple": {"type": "array"},
    "Sequence": {"type": "array"},
    "set": {"type": "array"},
    "Set": {"type": "array"},
    "dict": {"type": "object"},
    "Dict": {"type": "object"},
    "Mapping": {"type": "object"},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "bytes": {"type": "string", "contentEncoding": "base64"},
}
_ARRAYS = {"list", "List", "tuple", "Tuple", "Sequence", "set", "Set", "Iterable"}
_OBJECTS = {"dict", "Dict", "Mapping"}


def parse_python(content: str) -> ast.Module:
    """Parse a script, turning a syntax error into ScriptLoadError with its line."""
    try:
        return ast.parse(content)
    except SyntaxError as exc:
        raise ScriptLoadError(
            f"python3 script has a syntax error at line {exc.lineno}: {exc.msg}"
        ) from None


def find_main(tree: ast.Module, name: str = "main") -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The last top-level `def main` (or `def <name>`), async or not, as Python would bind it."""
    found = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            found = node
    return found


def defines_function(content: str, name: str) -> bool:
    """Whether the script defines a top-level function `name` (False when it does not parse)."""
    try:
        return find_main(ast.parse(content), name) is not None
    except SyntaxError:
        return False


def check_python(content: str) -> None:
    """Raise ScriptLoadError unless the script parses and defines a top-level main."""
    if find_main(parse_python(content)) is None:
        raise ScriptLoadError(
            "python3 script has no top-level `def main(...)` (or `async def main`); "
            "define main: the step calls it with its arguments and returns its result"
        )


def python_schema(content: str, entry: str = "main") -> dict:
    """JSON Schema of main's (or `entry`'s) arguments; a script without it takes none.

    Raises:
        ScriptLoadError: the script does not parse.
    """
    main = find_main(parse_python(content), entry)
    properties: dict[str, dict] = {}
    required: list[str] = []
    if main is not None:
        docs = argument_docs(ast.get_docstring(main) or "")
        for arg, default in _params_with_defaults(main.args):
            schema, optional = annotation_schema(arg.annotation)
            schema = dict(schema)
            optional = _apply_default(schema, default) or optional
            if arg.arg in docs:
                schema["description"] = docs[arg.arg]
            properties[arg.arg] = schema
            if not optional:
                required.append(arg.arg)
    return object_schema(properties, required)


def _params_with_defaults(args: ast.arguments) -> list[tuple[ast.arg, ast.expr | None]]:
    positional = args.posonlyargs + args.args
    padding: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    pairs = list(zip(positional, padding + list(args.defaults)))
    return pairs + list(zip(args.kwonlyargs, args.kw_defaults))


def _apply_default(schema: dict, default: ast.expr | None) -> bool:
    """Record a literal default in `schema`; True when the parameter has a default."""
    if default is None:
        return False
    try:
        value = ast.literal_eval(default)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return True
    if value is None:
        return True
    if not schema:
        schema.update(_schema_of_value(value))
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, (str, int, float, bool, list, dict)):
        schema["default"] = value
    return True


def _schema_of_value(value: Any) -> dict:
    """The type a default value implies for an unannotated parameter."""
    for kind, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
                       ((list, tuple), "array"), (dict, "object")):
        if isinstance(value, kind):
            return {"type": name}
    return {}


def annotation_schema(node: ast.expr | None) -> tuple[dict, bool]:
    """The schema an annotation describes, and whether it admits None (Optional)."""
    if node is None:
        return {}, False
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return annotation_schema(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return {}, False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union_schema(_flatten_union(node))
    if isinstance(node, ast.Subscript):
        return _generic_schema(_type_name(node.value), node.slice)
    return dict(_NAMED.get(_type_name(node), {})), False


def _type_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and node.value is None:
        return "None"
    return ""


def _flatten_union(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _flatten_union(node.left) + _flatten_union(node.right)
    return [node]


def _union_schema(members: list[ast.expr]) -> tuple[dict, bool]:
    rest = [m for m in members if _type_name(m) != "None"]
    optional = len(rest) < len(members)
    if len(rest) == 1:
        schema, inner_optional = annotation_schema(rest[0])
        return schema, optional or inner_optional
    schemas = [annotation_schema(m)[0] for m in rest]
    if any(not schema for schema in schemas):
        return {}, optional
    return {"anyOf": schemas}, optional


def _generic_schema(name: str, index: ast.expr) -> tuple[dict, bool]:
    items = list(index.elts) if isinstance(index, ast.Tuple) else [index]
    if name == "Optional":
        schema, _ = annotation_schema(items[0])
        return schema, True
    if name == "Union":
        return _union_schema(items)
    if name == "Annotated":
        return annotation_schema(items[0])
    if name == "Literal":
        return _literal_schema(items), False
    if name in _ARRAYS:
        schema: dict = {"type": "array"}
        typed = [i for i in items if not (isinstance(i, ast.Constant) and i.value is Ellipsis)]
        if len(typed) == 1 or (typed and all(ast.dump(t) == ast.dump(typed[0]) for t in typed)):
            schema["items"] = annotation_schema(typed[0])[0]
        return schema, False
    if name in _OBJECTS:
        schema = {"type": "object"}
        if len(items) == 2 and annotation_schema(items[1])[0]:
            schema["additionalProperties"] = annotation_schema(items[1])[0]
        return schema, False
    return dict(_NAMED.get(name, {})), False


def _literal_schema(items: list[ast.expr]) -> dict:
    values = [i.value for i in items if isinstance(i, ast.Constant)]
    schema: dict = {"enum": values}
    kinds = {_schema_of_value(v).get("type") for v in values}
    if len(kinds) == 1 and None not in kinds:
        schema = {"type": kinds.pop(), "enum": values}
    return schema


_SECTION = re.compile(r"^(\s*)(Args|Arguments|Parameters|Params)\s*:\s*$")
_GOOGLE_ENTRY = re.compile(r"^(\s*)\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_ENTRY = re.compile(r"^\s*:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


def argument_docs(docstring: str) -> dict[str, str]:
    """Argument descriptions from a Google-style `Args:` section or `:param x:` lines."""
    docs: dict[str, str] = {}
    current, entry_indent, section_indent = None, -1, None
    for line in docstring.splitlines():
        indent = len(line) - len(line.lstrip())
        sphinx = _SPHINX_ENTRY.match(line)
        if sphinx:
            current, entry_indent, section_indent = sphinx[1], indent, None
            docs[current] = sphinx[2].strip()
            continue
        section = _SECTION.match(line)
        if section:
            section_indent, current = len(section[1]), None
            continue
        if not line.strip():
            continue
        if current is not None and indent > entry_indent:
            docs[current] = f"{docs[current]} {line.strip()}".strip()
            continue
        entry = _GOOGLE_ENTRY.match(line)
        if section_indent is not None and indent > section_indent and entry:
            current, entry_indent = entry[2], indent
            docs[current] = entry[3].strip()
        else:
            current = None
            if indent <= (section_indent if section_indent is not None else -1):
                section_indent = None
    return docs
