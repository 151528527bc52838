"""Finding scripts and flows by path (`f/folder/name`): in the store first, then as
files under the search roots, laid out as Windmill's sync writes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import NotFound

SCRIPT_SUFFIXES = (
    (".py", "python3"), (".sh", "bash"), (".bun.ts", "bun"), (".deno.ts", "deno"),
    (".ts", "bun"), (".js", "bun"),
)
FLOW_SUFFIXES = (".flow.yaml", ".flow.yml", ".flow.json", ".flow/flow.yaml", ".flow/flow.json", ".yaml", ".json")


class Resolver:
    """Looks scripts and flows up by path."""

    def __init__(self, store: Any, roots: list[str | Path] | None = None):
        self.store = store
        self.roots = [Path(r) for r in (roots or [])]

    def script(self, path: str) -> tuple[str, str]:
        """(language, content) of the script at `path`."""
        row = self.store.get_script(path) if self.store is not None else None
        if row is not None:
            return row.language, row.content
        for root in self.roots:
            for suffix, language in SCRIPT_SUFFIXES:
                candidate = root / f"{path}{suffix}"
                if candidate.is_file():
                    return language, candidate.read_text()
        raise NotFound(f"script {path!r} not found in the store or under {self._where()}")

    def flow(self, path: str) -> Any:
        """The FlowDocument at `path`."""
        from engine.openflow import flow_from_data, load_flow

        row = self.store.get_flow(path) if self.store is not None else None
        if row is not None:
            return flow_from_data(row.document, source=f"flow {path}")
        for root in self.roots:
            for suffix in FLOW_SUFFIXES:
                candidate = root / f"{path}{suffix}"
                if candidate.is_file():
                    return load_flow(candidate)
        raise NotFound(f"flow {path!r} not found in the store or under {self._where()}")

    def _where(self) -> str:
        return ", ".join(str(r) for r in self.roots) or "no search folder"
