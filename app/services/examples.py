"""The bundled examples (`examples/`), imported into the catalog on first start."""

from __future__ import annotations

from typing import Any

from app.services import catalog
from app import settings

FOLDER = "f/examples"


def example_files() -> list[tuple[str, str, Any]]:
    """(kind, path, file) of every bundled example: flows, then scripts."""
    flows = [("flow", f"{FOLDER}/{f.name.removesuffix('.flow.yaml')}", f)
             for f in sorted(settings.EXAMPLES_DIR.glob("*.flow.yaml"))]
    scripts = [("script", f"{FOLDER}/{f.stem}", f) for f in sorted(settings.EXAMPLES_DIR.glob("*.py"))]
    return flows + scripts


def import_examples(store: Any, credentials: Any) -> list[str]:
    """Import every example once per database; returns the paths imported now."""
    if not credentials.first_time("examples_imported"):
        return []
    imported = []
    for kind, path, file in example_files():
        text = file.read_text(encoding="utf-8")
        if kind == "flow" and store.get_flow(path, workspace=settings.WORKSPACE) is None:
            catalog.import_flow(store, path, text)
            imported.append(path)
        elif kind == "script" and store.get_script(path, workspace=settings.WORKSPACE) is None:
            summary = text.split('"""')[1].strip() if text.startswith('"""') else ""
            catalog.save_script(store, path, "python3", text, summary)
            imported.append(path)
    return imported
