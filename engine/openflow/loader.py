"""Read flow documents from JSON or YAML, and write them back unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import ValidationError

from engine.errors import FlowLoadError, FlowValidationError, Issue
from engine.openflow.defaults import with_step_ids
from engine.openflow.inline import InlineFiles, folder_files, given_files, resolve_inline
from engine.openflow.issues import issues_from_validation_error
from engine.openflow.models import FlowDocument, FlowValue

Syntax = Literal["json", "yaml"]

_SUFFIXES: dict[str, Syntax] = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


TOO_DEEP = "the document is nested too deeply"
MAX_DEPTH = 128
"""Deepest nesting of objects and lists a flow document may have (models and JSON
serialisers recurse, and stop near 256 levels)."""


def _parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FlowLoadError(f"invalid JSON: {exc.msg} (column {exc.colno})",
                            file=source, line=exc.lineno) from exc
    except RecursionError:
        raise FlowLoadError(f"invalid JSON: {TOO_DEEP}", file=source) from None


def _parse_yaml(text: str, source: str) -> Any:
    import yaml  # only YAML documents need it: a JSON flow (as from the CLI) starts faster

    from engine.openflow.yaml_data import JsonDataLoader

    try:
        return yaml.load(text, Loader=JsonDataLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise FlowLoadError(f"invalid YAML: {TOO_DEEP}", file=source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        reason = f"{context}, {problem}" if context else problem
        raise FlowLoadError(f"invalid YAML: {reason}", file=source,
                            line=mark.line + 1 if mark is not None else None) from exc


def _parse_any(text: str, source: str) -> Any:
    """JSON first; then YAML. On failure, report the error of the likelier syntax."""
    try:
        return _parse_json(text, source)
    except FlowLoadError as json_error:
        try:
            return _parse_yaml(text, source)
        except FlowLoadError:
            if text.lstrip()[:1] in ("{", "["):
                raise json_error from None
            raise


def parse_flow(text: str, *, source: str = "<input>", syntax: Syntax | None = None,
               files: InlineFiles | Mapping[str, str] | None = None) -> FlowDocument:
    """Parse a flow document (or a bare flow value) from JSON or YAML text.

    Args:
        text: the document.
        source: where it came from, for messages; its extension picks the syntax.
        syntax: "json" or "yaml"; None decides by `source`'s extension, else tries JSON
            then YAML.
        files: where `!inline <file>` fields are read from: a mapping of names (relative
            to the flow's folder) to texts, or a reader (`engine.openflow.inline`);
            None: the flow came alone, and such a field is refused.

    Raises:
        FlowLoadError: the text is not valid JSON/YAML (message has the source and line).
        FlowValidationError: the data is not an OpenFlow document (every issue has a path).
    """
    syntax = syntax or _SUFFIXES.get(Path(source).suffix.lower())
    if syntax == "json":
        data = _parse_json(text, source)
    elif syntax == "yaml":
        data = _parse_yaml(text, source)
    else:
        data = _parse_any(text, source)
    if data is None:
        raise FlowLoadError("the document is empty", file=source)
    if isinstance(files, Mapping):
        files = given_files(files)
    return flow_from_data(data, source=source, files=files)


def load_flow(path: str | Path) -> FlowDocument:
    """Read a flow file: `.json`, `.yaml`/`.yml`, or anything else (JSON then YAML).

    `!inline <file>` fields are read from files beside it (never from outside its folder).
    Only the structure is checked here; call `validate_flow` for ids and expressions.

    Raises:
        FlowLoadError: the file cannot be read or parsed (message has the file and line).
        FlowValidationError: the data is not an OpenFlow document.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowLoadError(f"cannot read the file: {exc}", file=str(path)) from exc
    return parse_flow(text, source=str(path), files=folder_files(path.parent))


def flow_from_data(data: Any, *, source: str = "<input>", files: InlineFiles | None = None) -> FlowDocument:
    """Build a FlowDocument from parsed data: a full document or a bare `{"modules": ...}`.

    A bare flow value becomes `FlowDocument(value=...)`, and its issue paths read as in the
    full document (`value.modules[0]...`), the same paths `validate_flow` reports.
    A step without an `id` gets one, as Windmill's engine gives it (`engine.openflow.defaults`).
    `!inline <file>` fields are read through `files`; without it they are refused.

    Raises:
        FlowValidationError: with every issue found; its `source` attribute names the input.
    """
    if not isinstance(data, dict):
        error = FlowValidationError(
            [Issue("", f"a flow document must be an object, got {type(data).__name__}")]
        )
        error.source = source
        raise error
    if "value" not in data and "modules" in data:
        data = {"value": data}
    if _deeper_than(data, MAX_DEPTH):
        error = FlowValidationError([Issue("", f"{TOO_DEEP} (more than {MAX_DEPTH} levels of objects and lists)")])
        error.source = source
        raise error
    try:
        data = with_step_ids(resolve_inline(data, files))
        return FlowDocument.model_validate(data)
    except ValidationError as exc:
        error = FlowValidationError(issues_from_validation_error(exc, data))
        error.source = source
        raise error from None
    except FlowValidationError as error:
        error.source = source
        raise


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether objects and lists nest more than `limit` levels deep in `data`."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def dump_flow(doc: FlowDocument) -> dict[str, Any]:
    """The document as JSON data: unknown fields kept, nothing added, loaded key order.

    A document loaded from a bare flow value dumps as a full document `{"value": {...}}`;
    use `dump_value` to get the bare value back.
    """
    return doc.model_dump(exclude_unset=True, by_alias=True, mode="json")


def dump_value(flow: FlowDocument | FlowValue) -> dict[str, Any]:
    """The flow value (`{"modules": [...], ...}`) as JSON data, like `dump_flow`."""
    value = flow.value if isinstance(flow, FlowDocument) else flow
    return value.model_dump(exclude_unset=True, by_alias=True, mode="json")
