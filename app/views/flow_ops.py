"""Edits of an OpenFlow document as plain data: insert, move, delete and rename steps.

Every step list of a flow is addressed by a *container* key, so that the canvas and the
editor state can name a drop target without JSON paths that shift as steps move:

- `""`: the flow's top-level steps (`value.modules`);
- `"<id>"`: the body of loop step `<id>`;
- `"<id>/<n>"`: branch `n` of branch step `<id>`;
- `"<id>/default"`: the default branch of branchone step `<id>`.

Operations never change their input: they return a new document. Problems a user can
cause (an unknown step, a move into itself, a bad id) raise `EditError` with a message
for the page.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Iterator

from engine.openflow import RESERVED_IDS, free_step_id

IDENTIFIER = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")
LOOP_TYPES = frozenset({"forloopflow", "whileloopflow"})
BRANCH_TYPES = frozenset({"branchone", "branchall"})

PALETTE: tuple[tuple[str, str], ...] = (
    ("python", "Python"),
    ("bash", "Bash"),
    ("typescript", "TypeScript"),
    ("postgresql", "PostgreSQL"),
    ("duckdb", "DuckDB"),
    ("script", "Script by path"),
    ("forloop", "For loop"),
    ("whileloop", "While loop"),
    ("branchone", "Branch to one"),
    ("branchall", "Branch to all"),
    ("approval", "Approval"),
    ("identity", "Identity"),
)
"""(kind, label) of every step the palette offers, in palette order."""

_PYTHON = 'def main(name: str = "world"):\n    return {"greeting": f"hello {name}"}\n'
_BASH = 'name="${1:-world}"\necho "hello $name"\n'
_TYPESCRIPT = 'export async function main(name: string = "world") {\n  return { greeting: `hello ${name}` };\n}\n'
_POSTGRESQL = "-- $1 name = 'world'\nSELECT 'hello ' || $1::TEXT AS greeting;\n"
_DUCKDB = "-- $name (text) = 'world'\nSELECT 'hello ' || $name AS greeting;\n"
_APPROVAL = 'def main():\n    return {"approval": "requested"}\n'


class EditError(ValueError):
    """An edit that cannot be made; the message is shown to the user."""


def new_module(kind: str, step_id: str, *, script_path: str = "") -> dict[str, Any]:
    """A fresh step of a palette kind, with Windmill's usual starting content."""
    values: dict[str, dict[str, Any]] = {
        "python": _rawscript("python3", _PYTHON),
        "bash": _rawscript("bash", _BASH),
        "typescript": _rawscript("bun", _TYPESCRIPT),
        "postgresql": _rawscript("postgresql", _POSTGRESQL),
        "duckdb": _rawscript("duckdb", _DUCKDB),
        "script": {"type": "script", "path": script_path, "input_transforms": {}},
        "forloop": {"type": "forloopflow", "modules": [],
                    "iterator": {"type": "javascript", "expr": "[1, 2, 3]"}},
        "whileloop": {"type": "whileloopflow", "modules": []},
        "branchone": {"type": "branchone", "default": [],
                      "branches": [{"summary": "Branch 1", "expr": "false", "modules": []}]},
        "branchall": {"type": "branchall", "branches": [{"summary": "Branch 1", "modules": []},
                                                        {"summary": "Branch 2", "modules": []}]},
        "approval": _rawscript("python3", _APPROVAL),
        "identity": {"type": "identity"},
    }
    if kind not in values:
        raise EditError(f"unknown step kind {kind!r}; choose one of {', '.join(values)}")
    module: dict[str, Any] = {"id": step_id, "value": values[kind]}
    if kind == "approval":
        module["summary"] = "Approval"
        module["suspend"] = {"required_events": 1, "timeout": 1800}
    return module


def _rawscript(language: str, content: str) -> dict[str, Any]:
    return {"type": "rawscript", "language": language, "content": content, "input_transforms": {}}


def flow_modules(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The top-level step list of a document (created when missing)."""
    value = document.setdefault("value", {})
    return value.setdefault("modules", [])


def iter_containers(module: dict[str, Any]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(container key, step list) of every step list directly inside a step."""
    value, step_id = module.get("value") or {}, module.get("id", "")
    kind = value.get("type")
    if kind in LOOP_TYPES:
        yield step_id, value.setdefault("modules", [])
    elif kind in BRANCH_TYPES:
        for index, branch in enumerate(value.get("branches") or []):
            yield f"{step_id}/{index}", branch.setdefault("modules", [])
        if kind == "branchone":
            yield f"{step_id}/default", value.setdefault("default", [])


def iter_steps(modules: list[dict[str, Any]], container: str = "") -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(container, index, step) for every step at every depth, in run order."""
    for index, module in enumerate(modules):
        yield container, index, module
        for key, children in iter_containers(module):
            yield from iter_steps(children, key)


def step_ids(document: dict[str, Any]) -> list[str]:
    """Every step id of the flow, in run order (failure/preprocessor steps included)."""
    value = document.get("value") or {}
    ids = [module.get("id", "") for _, _, module in iter_steps(value.get("modules") or [])]
    for special in ("preprocessor_module", "failure_module"):
        if value.get(special):
            ids.append(value[special].get("id", ""))
    return ids


def container_list(document: dict[str, Any], container: str) -> list[dict[str, Any]]:
    """The step list a container key names, inside `document` (not a copy)."""
    if container == "":
        return flow_modules(document)
    for _, _, module in iter_steps(flow_modules(document)):
        for key, children in iter_containers(module):
            if key == container:
                return children
    raise EditError(f"there is no step list {container!r} in this flow")


SPECIAL_STEPS = {"@failure": "failure_module", "@preprocessor": "preprocessor_module"}
"""Pseudo-containers of the flow's error handler and preprocessor (one step each)."""


def find_step(document: dict[str, Any], step_id: str) -> tuple[str, int, dict[str, Any]]:
    """(container, index, step) of a step id (the error handler's container is "@failure").

    Raises:
        EditError: no step has that id.
    """
    for container, index, module in iter_steps(flow_modules(document)):
        if module.get("id") == step_id:
            return container, index, module
    value = document.get("value") or {}
    for container, key in SPECIAL_STEPS.items():
        module = value.get(key)
        if module and module.get("id") == step_id:
            return container, 0, module
    raise EditError(f"no step has id {step_id!r}")


def next_step_id(document: dict[str, Any]) -> str:
    """The first free id of a, b, ..., z, aa, ab, ... (Windmill's naming)."""
    return free_step_id(step_ids(document))


def insert_step(document: dict[str, Any], kind: str, container: str, index: int,
                *, script_path: str = "") -> tuple[dict[str, Any], str]:
    """A copy of the document with a new step of `kind` at (container, index), and its id."""
    result = copy.deepcopy(document)
    target = container_list(result, container)
    step_id = next_step_id(result)
    target.insert(_clamp(index, len(target)), new_module(kind, step_id, script_path=script_path))
    return result, step_id


def delete_step(document: dict[str, Any], step_id: str) -> dict[str, Any]:
    """A copy of the document without the step (and whatever it contains)."""
    result = copy.deepcopy(document)
    container, index, _ = find_step(result, step_id)
    if container in SPECIAL_STEPS:
        del result["value"][SPECIAL_STEPS[container]]
    else:
        del container_list(result, container)[index]
    return result


def move_step(document: dict[str, Any], step_id: str, container: str, index: int) -> dict[str, Any]:
    """A copy of the document with the step moved to position `index` of `container`.

    `index` counts positions as they are before the move (as the canvas shows them).

    Raises:
        EditError: unknown step or container, or a move into the step itself.
    """
    result = copy.deepcopy(document)
    source, old_index, module = find_step(result, step_id)
    if source in SPECIAL_STEPS or container in SPECIAL_STEPS:
        raise EditError("the error handler and the preprocessor stay where they are")
    inner = {key for _, _, child in iter_steps([module]) for key, _ in iter_containers(child)}
    if container in inner:
        raise EditError(f"cannot move step {step_id!r} inside itself")
    target = container_list(result, container)
    del container_list(result, source)[old_index]
    if source == container and index > old_index:
        index -= 1
    target.insert(_clamp(index, len(target)), module)
    return result


def id_problem(document: dict[str, Any], old_id: str, new_id: str) -> str | None:
    """Why `new_id` cannot replace `old_id`, or None when it can."""
    if new_id == old_id:
        return None
    if not new_id:
        return "a step needs an id"
    if not IDENTIFIER.match(new_id):
        return ("use letters, digits and _ only, not starting with a digit "
                "(so that results.<id> works)")
    if new_id in RESERVED_IDS:
        return f"{new_id!r} is reserved; choose another id"
    if new_id in step_ids(document):
        return f"another step already has id {new_id!r}"
    return None


def rename_step(document: dict[str, Any], old_id: str, new_id: str) -> dict[str, Any]:
    """A copy with the step renamed and every `results.<old>` reference updated.

    Raises:
        EditError: the new id is not valid (see `id_problem`).
    """
    problem = id_problem(document, old_id, new_id)
    if problem is not None:
        raise EditError(problem)
    result = copy.deepcopy(document)
    _, _, module = find_step(result, old_id)
    if new_id == old_id:
        return result
    module["id"] = new_id
    _rewrite_expressions(result, old_id, new_id)
    value = result.get("value") or {}
    if value.get("early_return") == old_id:
        value["early_return"] = new_id
    return result


def _rewrite_expressions(node: Any, old_id: str, new_id: str) -> None:
    """Rewrite `results.old` / `results["old"]` in every `expr` string of the document."""
    dotted = re.compile(rf"\bresults\s*\.\s*{re.escape(old_id)}\b")
    quoted = re.compile(rf"\bresults\s*\[\s*(['\"]){re.escape(old_id)}\1\s*\]")
    replacement = f"results[{json.dumps(new_id)}]"

    def fix(text: str) -> str:
        return quoted.sub(replacement, dotted.sub(f"results.{new_id}", text))

    if isinstance(node, dict):
        for key, item in node.items():
            if key == "expr" and isinstance(item, str):
                node[key] = fix(item)
            else:
                _rewrite_expressions(item, old_id, new_id)
    elif isinstance(node, list):
        for item in node:
            _rewrite_expressions(item, old_id, new_id)


def replace_step(document: dict[str, Any], step_id: str, module: dict[str, Any]) -> dict[str, Any]:
    """A copy with the step (found by its current id) replaced by `module`."""
    result = copy.deepcopy(document)
    container, index, _ = find_step(result, step_id)
    if container in SPECIAL_STEPS:
        result["value"][SPECIAL_STEPS[container]] = copy.deepcopy(module)
    else:
        container_list(result, container)[index] = copy.deepcopy(module)
    return result


def steps_before(document: dict[str, Any], step_id: str) -> list[str]:
    """Ids of the steps whose results `step_id` can read: those that run before it.

    That is every earlier step of its own list and of every enclosing list (not the
    contents of earlier loops or branches, whose results are not addressable outside).
    """
    chain = _enclosing_chain(flow_modules(document), step_id)
    if chain is None:
        raise EditError(f"no step has id {step_id!r}")
    return [module.get("id", "") for modules, index in chain for module in modules[:index]]


def enclosing_loop(document: dict[str, Any], step_id: str) -> tuple[dict[str, Any] | None, list[str], list[str]]:
    """The innermost loop around a step (None when it is in none), with the ids of the
    steps before it outside that loop and inside it (see `steps_before`)."""
    chain = _enclosing_chain(flow_modules(document), step_id)
    if chain is None:
        raise EditError(f"no step has id {step_id!r}")
    inside = max((level for level, (modules, index) in enumerate(chain[:-1])
                  if (modules[index].get("value") or {}).get("type") in LOOP_TYPES), default=None)
    if inside is None:
        return None, steps_before(document, step_id), []
    ids = [[module.get("id", "") for module in modules[:index]] for modules, index in chain]
    loop_modules, loop_index = chain[inside]
    return loop_modules[loop_index], sum(ids[:inside + 1], []), sum(ids[inside + 1:], [])


def _enclosing_chain(modules: list[dict[str, Any]],
                     step_id: str) -> list[tuple[list[dict[str, Any]], int]] | None:
    for index, module in enumerate(modules):
        if module.get("id") == step_id:
            return [(modules, index)]
        for _, children in iter_containers(module):
            inner = _enclosing_chain(children, step_id)
            if inner is not None:
                return [(modules, index)] + inner
    return None


_READS = re.compile(r"\bresults\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*(['\"])([^'\"]+)\2\s*\])")


def early_reads(document: dict[str, Any]) -> list[str]:
    """What each step reads that it cannot have yet: `results.x` in its own expressions
    (inputs, iterator, branch conditions, options) where `x` does not run before it, e.g.
    a loop whose iterator reads a step moved into its own body. One sentence each."""
    problems = []
    for container, _, module in iter_steps(flow_modules(document)):
        step_id = str(module.get("id", ""))
        known = set(steps_before(document, step_id))
        everywhere = set(step_ids(document))
        for read in sorted({name for expr in _own_exprs(module) for name in _reads(expr)}):
            if read in everywhere and read not in known:
                problems.append(f"step {step_id} reads results.{read}, which has not run when {step_id} starts "
                                f"(it runs later, inside {step_id}, or in a branch or loop of its own)")
    return problems


def _reads(expr: str) -> set[str]:
    return {match.group(1) or match.group(3) for match in _READS.finditer(expr)}


def _own_exprs(node: Any) -> Iterator[str]:
    """Every `expr` of a step's own settings, not of the steps inside it."""
    if isinstance(node, dict):
        for key, item in node.items():
            if key == "expr" and isinstance(item, str):
                yield item
            elif key not in ("modules", "default"):
                yield from _own_exprs(item)
    elif isinstance(node, list):
        for item in node:
            yield from _own_exprs(item)


def _clamp(index: int, length: int) -> int:
    return max(0, min(int(index), length))
