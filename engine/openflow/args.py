"""Check a run's args against the flow's (or script's) JSON Schema, filling defaults."""

from __future__ import annotations

import copy
import functools
import json
from typing import TYPE_CHECKING, Any

from engine.errors import ArgsValidationError, FlowValidationError, Issue
from engine.openflow.formats import format_checker
from engine.openflow.paths import format_path

if TYPE_CHECKING:
    from jsonschema import exceptions as schema_errors


@functools.cache
def _drafts() -> dict[str, type]:
    """The validator class of each draft by its meta-schema's URI (jsonschema is loaded on
    the first flow with a schema: a run without one, as from the CLI, never pays for it)."""
    from jsonschema import validators

    return {
        str(cls.META_SCHEMA.get("$id") or cls.META_SCHEMA["id"]).rstrip("#").split("://", 1)[-1]: cls
        for cls in (
            validators.Draft4Validator,
            validators.Draft6Validator,
            validators.Draft7Validator,
            validators.Draft201909Validator,
            validators.Draft202012Validator,
        )
    }


@functools.cache
def _format_checker() -> Any:
    return format_checker()


def _validator_class(schema: dict[str, Any]) -> type:
    """The draft named by `$schema` (http or https, with or without `#`), else 2020-12."""
    uri = str(schema.get("$schema", "")).rstrip("#").split("://", 1)[-1]
    drafts = _drafts()
    return drafts.get(uri, drafts["json-schema.org/draft/2020-12/schema"])


def _fill_defaults(schema: dict[str, Any], target: dict[str, Any]) -> None:
    """Set absent properties that have a default; recurse into object args."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return
    for name, subschema in properties.items():
        if not isinstance(subschema, dict):
            continue
        if name not in target and not _no_default(subschema):
            target[name] = copy.deepcopy(subschema["default"])
        if isinstance(target.get(name), dict):
            _fill_defaults(subschema, target[name])


def _no_default(subschema: dict[str, Any]) -> bool:
    """Whether a property's `default` means "none": Windmill writes `"default": null`,
    and `""` for an object parameter; filling either in would break the property's type."""
    default = subschema.get("default")
    return default is None or (default == "" and subschema.get("type") == "object")


def _as_checked(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as JSON Schema wants it, from what Windmill's UI writes: a name listed
    twice in `required` (a valid Windmill export) is listed once. The document keeps
    the schema as written."""
    required = schema.get("required")
    if isinstance(required, list) and all(isinstance(n, str) for n in required) and len(set(required)) < len(required):
        return {**schema, "required": list(dict.fromkeys(required))}
    return schema


def with_defaults(schema: dict[str, Any] | None, args: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `args` with the schema's property defaults filled in."""
    filled = copy.deepcopy(args)
    if schema:
        _fill_defaults(schema, filled)
    return filled


def _check_schema(cls: type, schema: dict[str, Any]) -> None:
    # Checking a schema against its meta-schema costs milliseconds, validating args
    # microseconds; a flow submitted many times has its schema checked once.
    try:
        text = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):
        _check_schema_now(cls, schema)
        return
    _check_schema_text(cls, text)


@functools.lru_cache(maxsize=256)
def _check_schema_text(cls: type, text: str) -> None:
    # Only valid schemas are remembered: an exception is not cached.
    _check_schema_now(cls, json.loads(text))


def _check_schema_now(cls: type, schema: dict[str, Any]) -> None:
    from jsonschema.exceptions import SchemaError

    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        path = format_path("schema", list(exc.absolute_path))
        raise FlowValidationError([Issue(path, f"invalid args schema: {exc.message}")]) from None


def validate_args(schema: dict[str, Any] | None, args: dict[str, Any] | None) -> dict[str, Any]:
    """Fill defaults into a copy of `args`, then validate it against `schema`.

    The draft is taken from `$schema` (Windmill writes draft-07 or 2020-12), 2020-12 when
    absent or unknown. Unknown keywords (Windmill's `order`, `x-...`) are ignored; formats
    email, date-time, ipv4, ipv6, hostname, uri, date and uuid are checked.

    Args:
        schema: the JSON Schema of the args; None or empty accepts any args unchanged.
        args: the args given (None means none).

    Returns:
        The args with defaults filled in (a new dict; `args` is not modified).

    Raises:
        ArgsValidationError: listing every problem with its path (`args.count: ...`).
        FlowValidationError: the schema itself is not a valid JSON Schema.
    """
    if args is None:
        args = {}
    if not isinstance(args, dict):
        kind = type(args).__name__
        raise ArgsValidationError([Issue("args", f"args must be an object, got {kind}")])
    if not schema:
        return dict(args)
    schema = _as_checked(schema)
    cls = _validator_class(schema)
    _check_schema(cls, schema)
    filled = with_defaults(schema, args)
    checked_schema, checked = _without_resource_references(schema, filled)
    issues = _issues(cls(checked_schema, format_checker=_format_checker()), checked)
    if issues:
        raise ArgsValidationError(issues)
    return filled


def is_resource_reference(prop: Any, value: Any) -> bool:
    """Whether `value` names a resource for a resource argument: `"$res:path"` where the
    schema says `format: resource-<type>` (Windmill's resource pickers give such a string;
    the step gets the resource's value when it starts)."""
    return (isinstance(prop, dict) and str(prop.get("format", "")).startswith("resource-")
            and isinstance(value, str) and value.startswith("$res:"))


def _without_resource_references(schema: dict[str, Any], args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The schema and args to check: resource references stand for values checked when the
    resource is saved, so they are left out (and count as given)."""
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    references = {name for name, value in args.items() if is_resource_reference(properties.get(name), value)}
    if not references:
        return schema, args
    required = [name for name in schema.get("required") or [] if name not in references]
    checked = {name: value for name, value in args.items() if name not in references}
    return {**schema, "required": required}, checked


def _path_key(error: schema_errors.ValidationError) -> list[tuple[int, int, str]]:
    return [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in error.absolute_path]


def _issues(validator: Any, args: dict[str, Any]) -> list[Issue]:
    """Every error, outer paths first, indices in numeric order."""
    errors = sorted(validator.iter_errors(args), key=_path_key)
    return [Issue(format_path("args", list(e.absolute_path)), e.message) for e in errors]
