"""Saved flows and scripts as the app sees them: import, export, duplicate, check.

Pages and the REST API both go through here, so a flow saved either way is checked the
same way. Paths look like Windmill's: `f/folder/name` or `u/user/name`.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from app import settings

LANGUAGES = ("python3", "bash", "bun", "postgresql", "duckdb")
NEW_SCRIPT = {
    "python3": 'def main(name: str = "world") -> dict:\n    print(f"hello {name}")\n    return {"greeting": f"hello {name}"}\n',
    "bash": 'name="${1:-world}"\necho "hello $name"\n',
    "bun": 'export async function main(name: string = "world") {\n  console.log(`hello ${name}`);\n  return { greeting: `hello ${name}` };\n}\n',
    "postgresql": "-- $1 name = 'world'\nSELECT 'hello ' || $1::TEXT AS greeting;\n",
    "duckdb": "-- $name (text) = 'world'\nSELECT 'hello ' || $name AS greeting;\n",
}


class CatalogError(ValueError):
    """A user-facing problem with a path or document (shown next to the input)."""


def check_path(path: str, what: str = "item") -> str:
    """The path, stripped, or CatalogError naming it and saying what is wrong with it
    (the engine's one grammar of item paths)."""
    from engine import ItemPathError, check_item_path

    try:
        return check_item_path(path.strip() if isinstance(path, str) else path, what)
    except ItemPathError as exc:
        raise CatalogError(str(exc)) from None


def parse_document(text: str, source: str = "<input>") -> Any:
    """A checked FlowDocument from OpenFlow JSON or YAML text.

    Raises:
        BadInput: the text does not parse, or the flow breaks OpenFlow rules.
    """
    from engine import check_flow, parse_flow

    document = parse_flow(text, source=source)
    check_flow(document)
    return document


def save_flow(store: Any, path: str, document: Any, *, created_by: str | None = None) -> int:
    """Save a document (model or plain dict) as the next version of `path`."""
    from engine import check_flow, dump_flow, flow_from_data, lock_flow

    if isinstance(document, dict):
        document = flow_from_data(document, source=path)
    check_flow(document)
    data = _locked(lambda: lock_flow(dump_flow(document), fetch=python_source(store)))
    return store.save_flow(check_path(path, "flow"), data, summary=data.get("summary") or "",
                           created_by=created_by, workspace=settings.WORKSPACE)


def step_locks(store: Any, path: str, version: int) -> dict[str, str]:
    """The lock of each script step of a saved flow version, by step id."""
    from engine.deps.saving import script_steps

    row = store.get_flow(path, version, workspace=settings.WORKSPACE)
    document = row.document if row is not None else {}
    return {str(module.get("id")): module["value"]["lock"] for module in script_steps(document)
            if module["value"].get("lock")}


def lock_still_fits(step: dict[str, Any]) -> bool:
    """Whether a rawscript step's lock (if any) still pins everything its code imports."""
    from engine import lock_covers

    if not step.get("lock"):
        return True
    return lock_covers(str(step.get("language") or ""), str(step.get("content") or ""), step["lock"],
                       path=step.get("path"))


def python_source(store: Any) -> Any:
    """Finds the workspace scripts a Python step imports (for their own imports)."""
    from engine import Resolver

    return Resolver(store).python_source


def _locked(make: Any) -> Any:
    """The result of `make()`, which resolves dependencies: a failure is the user's to fix."""
    from engine import DependencyError

    try:
        return make()
    except DependencyError as exc:
        raise CatalogError(str(exc)) from None


def import_flow(store: Any, path: str, text: str) -> int:
    """Parse OpenFlow text and save it at `path`; returns the new version."""
    path = check_path(path, "flow")
    return save_flow(store, path, parse_document(text, source=path))


def new_flow(store: Any, path: str, summary: str) -> int:
    """Create an empty flow with a one-field args schema, ready for the editor."""
    path = check_path(path, "flow")
    if store.get_flow(path, workspace=settings.WORKSPACE) is not None:
        raise CatalogError(f"a flow exists already at {path}")
    document = {"summary": summary.strip() or path.rsplit("/", 1)[-1], "description": "",
                "value": {"modules": []},
                "schema": {"$schema": "https://json-schema.org/draft/2020-12/schema",
                           "type": "object", "properties": {}, "required": []}}
    return save_flow(store, path, document)


def load_document(store: Any, path: str) -> dict[str, Any]:
    """The latest saved document of a flow as plain data.

    Raises:
        NotFound: no flow at `path`.
    """
    from engine import NotFound

    row = store.get_flow(path, workspace=settings.WORKSPACE)
    if row is None:
        raise NotFound(f"flow {path!r} not found")
    return dict(row.document or {})


def export_text(document: dict[str, Any], fmt: str) -> str:
    """The document as YAML (`fmt="yaml"`) or JSON text."""
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def duplicate_flow(store: Any, source: str, target: str) -> int:
    """Copy the latest version of a flow to a new path."""
    target = check_path(target, "flow")
    if store.get_flow(target, workspace=settings.WORKSPACE) is not None:
        raise CatalogError(f"a flow exists already at {target}")
    return save_flow(store, target, load_document(store, source))


def script_schema_or_error(language: str, content: str, *, preprocessor: bool = False
                           ) -> tuple[dict[str, Any] | None, str]:
    """(schema, "") for a usable script, else (None, what is wrong); a flow's preprocessor
    step may call `preprocessor` instead of `main`."""
    from engine import BadInput, check_script, script_schema

    try:
        check_script(language, content, preprocessor=preprocessor)
        return script_schema(language, content, preprocessor=preprocessor), ""
    except BadInput as exc:
        return None, str(exc)


def save_script(store: Any, path: str, language: str, content: str, summary: str = "", *,
                lock: str | None = None, dedicated_worker: bool | None = None) -> int:
    """Check a script (it needs a `main` for Python/TypeScript) and save it with the lock of
    its dependencies: `lock` (a `*.script.lock` from `wmill sync`) while it pins every
    import, else one resolved now. `dedicated_worker` None keeps the latest version's flag."""
    from engine import lock_script

    path = check_path(path, "script")
    if language not in LANGUAGES:
        raise CatalogError(f"language must be one of {', '.join(LANGUAGES)}")
    schema, problem = script_schema_or_error(language, content)
    if schema is None:
        raise CatalogError(problem)
    made = _locked(lambda: lock_script(language, content, lock=lock, path=path, fetch=python_source(store)))
    if dedicated_worker is None:
        latest = store.get_script(path, workspace=settings.WORKSPACE)
        dedicated_worker = bool(latest is not None and latest.dedicated_worker)
    return store.save_script(path, language, content, schema, summary=summary, lock=made,
                             dedicated_worker=dedicated_worker, workspace=settings.WORKSPACE)


def describe_steps(document: dict[str, Any]) -> list[dict[str, str]]:
    """One row per step at every depth: indent level, id, type and summary."""
    rows: list[dict[str, str]] = []

    def walk(modules: list[dict[str, Any]], depth: int) -> None:
        for module in modules or []:
            value = module.get("value") or {}
            rows.append({"id": str(module.get("id", "")), "type": str(value.get("type", "")),
                         "summary": str(module.get("summary") or ""), "depth": str(depth),
                         "indent": f"{depth * 1.25}rem"})
            walk(value.get("modules") or [], depth + 1)
            for branch in value.get("branches") or []:
                walk(branch.get("modules") or [], depth + 1)
            walk(value.get("default") or [], depth + 1)

    walk((document.get("value") or {}).get("modules") or [], 0)
    return rows
