"""The app's modules depend on each other in one direction only (see app/README.md).

`components/` imports nothing of `app/`: a component gets routes, states and tables
as arguments. Inside `app/`, each role package imports only the roles below it, so no
import cycle runs between packages.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NEUTRAL = {"app.routes", "app.settings"}
"""Modules every part of the app may import; they import nothing of the app."""
ALLOWED = {
    "neutral": set(),
    "services": {"neutral"},
    "rest": {"neutral", "services"},
    "views": {"neutral", "services"},
    "states": {"neutral", "services", "views"},
    "pages": {"neutral", "services", "views", "states"},
    "top": {"neutral", "services", "rest", "views", "states", "pages"},
}
"""What each role may import besides itself (and `components`)."""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                as_module = ROOT / Path(*candidate.split("."))
                is_module = as_module.with_suffix(".py").exists() or (as_module / "__init__.py").exists()
                found.add(candidate if is_module else node.module)
    return found


def imported_names(path: Path) -> set[str]:
    """Every `module.name` that `path` imports with `from module import name`."""
    return {f"{node.module}.{alias.name}" for node in ast.walk(ast.parse(path.read_text(), str(path)))
            if isinstance(node, ast.ImportFrom) and node.module for alias in node.names}


def role(module: str) -> str:
    if module in NEUTRAL:
        return "neutral"
    if module in ("app", "app.app"):
        return "top"
    parts = module.split(".")
    assert parts[1] in ALLOWED, f"{module} is in no role package of app/ (rest, services, views, states, pages)"
    return parts[1]


def app_edges() -> list[tuple[str, str]]:
    return [(module_name(path), target) for path in sorted((ROOT / "app").rglob("*.py"))
            for target in sorted(imports(path)) if target == "app" or target.startswith("app.")]


def test_components_import_nothing_of_the_app():
    wrong = [f"{module_name(path)} imports {target}" for path in sorted((ROOT / "components").rglob("*.py"))
             for target in sorted(imports(path)) if target == "app" or target.startswith("app.")]
    assert wrong == []


def test_every_app_module_has_a_role():
    loose = [module_name(path) for path in (ROOT / "app").glob("*.py")
             if module_name(path) not in NEUTRAL | {"app", "app.app"}]
    assert loose == [], "put new app modules in a role package: app/rest, services, views, states or pages"


def test_roles_import_only_the_roles_below_them():
    wrong = [f"{source} ({role(source)}) imports {target} ({role(target)})" for source, target in app_edges()
             if role(source) != role(target) and role(target) not in ALLOWED[role(source)]]
    assert wrong == []


def test_no_import_cycle_between_packages():
    graph: dict[str, set[str]] = {}
    for source, target in app_edges():
        if role(source) != role(target):
            graph.setdefault(role(source), set()).add(role(target))

    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt}))
                   for nxt in graph.get(start, ()))

    assert [name for name in graph if reaches(name, name)] == []


def test_services_hold_no_http_handler():
    """Endpoints live in app/rest; a service is called by them, by states and by the engine."""
    http = ("starlette.requests.Request", "starlette.responses.", "starlette.routing.")
    wrong = [f"{module_name(path)} imports {name}" for path in sorted((ROOT / "app" / "services").rglob("*.py"))
             for name in sorted(imported_names(path)) if name.startswith(http)]
    assert wrong == []


def test_the_rule_catches_a_wrong_import(tmp_path):
    """The checks see imports made inside functions and `from app import x` of a module."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from app.views import present\n    from app import routes\n")
    assert imports(module) == {"app.views.present", "app.routes"}
    assert "states" not in ALLOWED["views"] and "pages" not in ALLOWED["states"]
