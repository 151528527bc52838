"""What a Python script needs installed, read from its text (parsed, never imported).

The requirements come from its top-level imports, each mapped to its PyPI package
(pypi_names.py), unless the script says otherwise in one of the ways Windmill's
"Dependencies in Python" page describes:

- `import foo  # pin: foo-bar==1.2` adds that requirement for the import instead of the
  inferred one (several pins add up; `# repin: ...` overrides every pin of that import,
  also those of the workspace scripts it imports);
- a `#requirements:` block of comment lines is the whole list, nothing is inferred;
- an `#extra_requirements:` block adds to what is inferred;
- PEP 723 inline metadata (`# /// script` ... `# ///`): its `dependencies` are the whole
  list, its `requires-python` (or the `#py: >=3.12` shortcut) is checked;
- `from f.folder.x import y`, `import u.user.x` and relative imports (`from .x import y`)
  name other workspace scripts: they are given to the job, and their imports count too.

The standard library needs nothing, nor do `wmill` and the packages it uses itself
(httpx and its own): they come with the engine.
"""

from __future__ import annotations

import ast
import functools
import platform
import re
import sys
from dataclasses import dataclass, field
from typing import Callable

from engine.deps.pypi_names import package_for
from engine.errors import DependencyError

WORKSPACE_ROOTS = ("f", "u")
"""First segments of workspace script paths (`f/folder/x`, `u/user/x`), as Windmill's."""
MAX_WORKSPACE_MODULES = 100
PROVIDER = "wmill"
_PIN = re.compile(r"#\s*(re)?pin:\s*(\S+)")
_BLOCK = re.compile(r"^#\s*(requirements|extra_requirements):\s*$")
_PY_SHORTCUT = re.compile(r"^#\s*py:\s*(\S.*?)\s*$")
_PEP723 = re.compile(r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$")

Fetch = Callable[[str], "str | None"]
"""The Python source of a workspace script by path, or None when there is none."""


@dataclass(frozen=True)
class PythonNeeds:
    """What a Python script (and the workspace scripts it imports) needs."""

    requirements: tuple[str, ...] = ()
    """pip requirement specifiers, in the order found, each once."""
    modules: dict[str, str] = field(default_factory=dict)
    """Workspace scripts it imports: path (`f/folder/x`) → source."""
    imports: tuple[str, ...] = ()
    """The modules it imports that are not the standard library's nor the engine's."""


@dataclass
class _Module:
    """What one module's text says."""

    imports: list[str] = field(default_factory=list)
    pins: dict[str, list[str]] = field(default_factory=dict)
    repins: dict[str, list[str]] = field(default_factory=dict)
    workspace: list[str] = field(default_factory=list)
    only: list[str] | None = None
    """The whole list, when a `#requirements:` block or PEP 723 metadata gives it."""
    extra: list[str] = field(default_factory=list)


def python_needs(content: str, *, path: str | None = None, fetch: Fetch | None = None) -> PythonNeeds:
    """What `content` needs: its requirements and the workspace scripts it imports.

    Args:
        content: the script's source.
        path: its workspace path (`f/folder/name`), against which relative imports resolve.
        fetch: finds imported workspace scripts; without it they are not followed.

    Raises:
        DependencyError: the script asks for a Python version this one is not.
    """
    main = _read_cached(content, path, "the script")
    modules: dict[str, str] = {}
    parsed = [main]
    pending = list(main.workspace)
    while pending and fetch is not None and len(modules) < MAX_WORKSPACE_MODULES:
        wanted = pending.pop(0)
        if wanted in modules or wanted == path:
            continue
        source = fetch(wanted)
        if source is None:
            continue
        modules[wanted] = source
        module = _read_cached(source, wanted, f"workspace script {wanted}")
        parsed.append(module)
        pending.extend(module.workspace)
    return PythonNeeds(_requirements(parsed), modules, tuple(dict.fromkeys(main.imports)))


def _requirements(parsed: list[_Module]) -> tuple[str, ...]:
    main = parsed[0]
    if main.only is not None:
        return _unique(main.only + main.extra)
    repins: dict[str, list[str]] = {}
    pins: dict[str, list[str]] = {}
    for module in parsed:
        for name, specs in module.repins.items():
            repins.setdefault(name, []).extend(specs)
        for name, specs in module.pins.items():
            pins.setdefault(name, []).extend(specs)
    found: list[str] = []
    for module in parsed:
        if module.only is not None:
            found.extend(module.only)
            continue
        for name in module.imports:
            found.extend(repins.get(name) or pins.get(name) or [package_for(name)])
        found.extend(module.extra)
    return _unique(found)


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item.strip() for item in items if item.strip()))


@functools.lru_cache(maxsize=512)
def _read_cached(content: str, path: str | None, what: str) -> _Module:
    """`_read`, once per text: runs read the same scripts again and again (never changed after)."""
    return _read(content, path, what)


def _read(content: str, path: str | None, what: str) -> _Module:
    """The imports, pins and requirement blocks of one module's text."""
    module = _Module()
    lines = content.splitlines()
    _read_blocks(lines, module)
    _read_metadata(content, module, what)
    try:
        tree = ast.parse(content)
    except SyntaxError:
        return module  # the script check reports it; nothing to install for it
    for node in _top_level(tree.body):
        comment = " ".join(lines[node.lineno - 1:node.end_lineno or node.lineno])
        for name, workspace in _imported(node, path):
            if workspace:
                module.workspace.append(name)
                continue
            if not _needs_install(name):
                continue
            module.imports.append(name)
            for again, spec in _PIN.findall(comment):
                (module.repins if again else module.pins).setdefault(name, []).append(spec)
    return module


def _top_level(body: list[ast.stmt]):
    """Import statements of the module body, also inside top-level if/try/with blocks."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            for part in ("body", "orelse", "handlers", "finalbody"):
                for child in getattr(node, part, []):
                    yield from _top_level(child.body if isinstance(child, ast.ExceptHandler) else [child])


def _imported(node: ast.Import | ast.ImportFrom, path: str | None) -> list[tuple[str, bool]]:
    """(module, is a workspace script path) for each module an import statement names."""
    if isinstance(node, ast.Import):
        return [_classify(alias.name) for alias in node.names]
    if node.level:
        return [(target, True) for target in _relative(node, path)]
    base = node.module or ""
    if base.split(".")[0] in WORKSPACE_ROOTS:
        return [(base.replace(".", "/"), True)] + [(f"{base}.{a.name}".replace(".", "/"), True) for a in node.names]
    known = [f"{base}.{alias.name}" for alias in node.names if package_for(f"{base}.{alias.name}") != package_for(base)]
    return [(name, False) for name in known] or [(base, False)]


def _classify(module: str) -> tuple[str, bool]:
    if module.split(".")[0] in WORKSPACE_ROOTS and "." in module:
        return module.replace(".", "/"), True
    return module, False


def _relative(node: ast.ImportFrom, path: str | None) -> list[str]:
    """Workspace paths a relative import names, from the importing script's folder."""
    if not path or "/" not in path:
        return []
    folder = path.split("/")[:-1]
    if node.level > 1:
        folder = folder[:-(node.level - 1)]
    base = folder + (node.module.split(".") if node.module else [])
    if node.module:
        return ["/".join(base)] + ["/".join(base + [alias.name]) for alias in node.names]
    return ["/".join(base + [alias.name]) for alias in node.names]


def _needs_install(module: str) -> bool:
    root = module.split(".")[0]
    return bool(root) and root != "__future__" and root not in sys.stdlib_module_names and root not in provided()


@functools.lru_cache(maxsize=1)
def provided() -> frozenset[str]:
    """Import names the engine's own environment gives every script: `wmill` and what it uses."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    wanted, seen = [PROVIDER], set()
    while wanted:
        name = canonicalize_name(wanted.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                wanted.append(requirement.name)
    return frozenset(module for module, dists in metadata.packages_distributions().items()
                     if any(canonicalize_name(d) in seen for d in dists)) | {PROVIDER}


def _read_blocks(lines: list[str], module: _Module) -> None:
    """`#requirements:` and `#extra_requirements:` blocks: the comment lines after them."""
    index = 0
    while index < len(lines):
        match = _BLOCK.match(lines[index].strip())
        index += 1
        if match is None:
            continue
        specs = []
        while index < len(lines) and lines[index].strip().startswith("#") and lines[index].strip("# \t"):
            specs.append(lines[index].strip().lstrip("#").strip())
            index += 1
        if match[1] == "requirements":
            module.only = (module.only or []) + specs
        else:
            module.extra.extend(specs)


def _read_metadata(content: str, module: _Module, what: str) -> None:
    """PEP 723 inline metadata and the `#py:` shortcut: dependencies, Python version."""
    for line_number, line in enumerate(content.splitlines(), 1):
        shortcut = _PY_SHORTCUT.match(line.strip())
        if shortcut:
            check_python_version(shortcut[1], f"{what}, `#py:` on line {line_number}")
    for match in _PEP723.finditer(content):
        if match["type"] != "script":
            continue
        text = "".join(line[2:] if line.startswith("# ") else line[1:]
                       for line in match["content"].splitlines(keepends=True))
        import tomllib  # here: most scripts carry no metadata, and a short process (the CLI) feels the import

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise DependencyError(f"{what}: its `# /// script` metadata is not valid TOML: {exc}") from None
        if data.get("requires-python"):
            check_python_version(str(data["requires-python"]), f"{what}, `requires-python` of its metadata")
        dependencies = data.get("dependencies")
        if dependencies is not None:
            if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
                raise DependencyError(f"{what}: `dependencies` of its `# /// script` metadata must be a list of "
                                      "requirement strings")
            module.only = (module.only or []) + dependencies


def check_python_version(spec: str, where: str) -> None:
    """Fail unless this Python satisfies `spec` (`>=3.10`, `3.11`, ...)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    text = spec.strip().strip("\"'")
    if re.fullmatch(r"\d+(\.\d+)*", text):
        text = f"=={text}.*" if text.count(".") < 2 else f"=={text}"
    try:
        wanted = SpecifierSet(text)
    except InvalidSpecifier:
        raise DependencyError(f"{where}: {spec!r} is not a Python version specifier (say `>=3.11`)") from None
    if not wanted.contains(platform.python_version(), prereleases=True):
        raise DependencyError(f"{where}: the script needs Python {spec}, and Millrace runs its scripts on "
                              f"Python {platform.python_version()}")
