"""Finding scripts and flows by path (`f/folder/name`): in the store first, then as
files under the search roots, laid out as Windmill's sync writes them.

A path names a file only inside a root, by construction: it must be an item path (no
absolute path, no `..`, nothing but letters, digits, `_`, `-`, `.` and `/`), and the
file, once its symlinks are resolved, must still lie inside that root.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from engine.errors import BadInput, NotFound
from engine.item_paths import check_item_path

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
        """(language, content) of the script at `path`.

        Raises:
            ItemPathError: `path` is not an item path.
            BadInput: the file found leads outside its root (a symlink).
            NotFound: no such script.
        """
        check_item_path(path, "script")
        row = self.store.get_script(path) if self.store is not None else None
        if row is not None:
            return row.language, row.content
        languages = dict(SCRIPT_SUFFIXES)
        for suffix, file in self._files(path, [suffix for suffix, _ in SCRIPT_SUFFIXES]):
            return languages[suffix], file.read_text()
        raise NotFound(f"script {path!r} not found in the store or under {self._where()}")

    def script_lock(self, path: str) -> str | None:
        """The lock saved with the script at `path`: the store's, else the
        `<path>.script.lock` file `wmill sync` writes beside a script file; None without one."""
        check_item_path(path, "script")
        row = self.store.get_script(path) if self.store is not None else None
        if row is not None:
            return getattr(row, "lock", None)
        for _, file in self._files(path, [".script.lock"]):
            return file.read_text()
        return None

    def script_dedicated(self, path: str) -> bool:
        """Whether the script at `path` runs in dedicated mode: the store's flag, else the
        `dedicated_worker` of the `<path>.script.yaml` (or `.json`) `wmill sync` writes beside it."""
        check_item_path(path, "script")
        row = self.store.get_script(path) if self.store is not None else None
        if row is not None:
            return bool(getattr(row, "dedicated_worker", False))
        for _, file in self._files(path, [".script.yaml", ".script.json"]):
            return _metadata(file).get("dedicated_worker") is True
        return False

    def python_source(self, path: str) -> str | None:
        """The source of the Python script at `path` (a workspace import), or None."""
        try:
            language, content = self.script(path)
        except (BadInput, NotFound):
            return None
        return content if language == "python3" else None

    def flow(self, path: str) -> Any:
        """The FlowDocument at `path`.

        Raises:
            ItemPathError: `path` is not an item path.
            BadInput: the file found leads outside its root (a symlink).
            NotFound: no such flow.
        """
        from engine.openflow import flow_from_data, load_flow

        check_item_path(path, "flow")
        row = self.store.get_flow(path) if self.store is not None else None
        if row is not None:
            return flow_from_data(row.document, source=f"flow {path}")
        for _, file in self._files(path, list(FLOW_SUFFIXES)):
            return load_flow(file)
        raise NotFound(f"flow {path!r} not found in the store or under {self._where()}")

    def _files(self, path: str, suffixes: list[str]) -> Iterator[tuple[str, Path]]:
        """(suffix, real file) for each file `<root>/<path><suffix>`, roots and suffixes in order."""
        for root in self.roots:
            real_root = root.resolve()
            for suffix in suffixes:
                candidate = (real_root / f"{path}{suffix}").resolve()
                if not candidate.is_file():
                    continue
                if not candidate.is_relative_to(real_root):
                    raise BadInput(f"{path}{suffix} under {root} leads outside that folder through a symlink: refused")
                yield suffix, candidate

    def _where(self) -> str:
        return ", ".join(str(r) for r in self.roots) or "no search folder"


def _metadata(file: Path) -> dict[str, Any]:
    """A script's metadata file (`<path>.script.yaml`, JSON being YAML too).

    Raises:
        BadInput: it is not YAML.
    """
    import yaml

    from engine.openflow.yaml_data import JsonDataLoader

    try:
        data = yaml.load(file.read_text(), Loader=JsonDataLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise BadInput(f"{file} is not valid YAML: {exc}") from None
    return data if isinstance(data, dict) else {}
