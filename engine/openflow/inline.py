"""`!inline <file>`: a step's script (or lock) kept in a file beside the flow document.

`wmill sync pull` writes a flow as a folder: `flow.yaml`, whose inline steps say
`content: '!inline name.inline_script.ts'` (and `lock: '!inline name.lock'`), and those
files beside it. Loading such a flow reads each file into the field that names it. The
file must lie inside the flow's folder: a name with `..`, an absolute name or a symlink
that leads out is refused, so a flow cannot read what its folder does not hold.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Mapping

from engine.errors import FlowValidationError, Issue, quote
from engine.openflow.rawsteps import raw_steps

PREFIX = "!inline "
FIELDS = ("content", "lock")
"""The fields of a step's value that `wmill sync` writes as `!inline` files."""
MAX_FILE_BYTES = 16 * 2**20

InlineFiles = Callable[[str], str]
"""Reads one `!inline` file by its (checked, relative) name; raises LookupError when there
is none, with the reason as its message."""

NO_FILES = ("the flow came without its files: put the file's text in the field instead, or load the flow's "
            "folder (the CLI reads the files beside flow.yaml; the import page takes a .zip of the folder, or "
            "flow.yaml together with its files)")


def inline_name(value: Any) -> str | None:
    """The file an `!inline <file>` string names, else None."""
    if isinstance(value, str) and value.startswith(PREFIX):
        return value[len(PREFIX):].strip()
    return None


def name_problem(name: str) -> str | None:
    """Why `name` may not be read as a file of the flow's folder, or None."""
    if not name:
        return "names no file"
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith("~"):
        return "must name a file inside the flow's folder, not an absolute path"
    if ".." in path.parts:
        return "must name a file inside the flow's folder: `..` is not allowed"
    return None


def resolve_inline(document: Any, files: InlineFiles | None) -> Any:
    """The document with every `!inline` file read into its field.

    Returns `document` itself when it names no file, else a copy.

    Raises:
        FlowValidationError: a name leaves the flow's folder, a file is missing, or
            `files` is None (the flow came alone); every problem at its path.
    """
    if not any(_named_fields(step) for _, step in raw_steps(document)):
        return document
    document = copy.deepcopy(document)
    issues = []
    for path, step in raw_steps(document):
        for field in _named_fields(step):
            written = step["value"][field]
            try:
                step["value"][field] = _read(inline_name(written) or "", files)
            except LookupError as exc:
                issues.append(Issue(f"{path}.value.{field}", f"{quote(written)} {exc.args[0]}"))
    if issues:
        raise FlowValidationError(issues)
    return document


def _named_fields(step: dict[str, Any]) -> list[str]:
    value = step.get("value")
    return [f for f in FIELDS if isinstance(value, dict) and inline_name(value.get(f)) is not None]


def _read(name: str, files: InlineFiles | None) -> str:
    problem = name_problem(name)
    if problem is not None:
        raise LookupError(problem)
    if files is None:
        raise LookupError(f"names a file, but {NO_FILES}")
    return files(name)


def folder_files(folder: str | Path) -> InlineFiles:
    """Read `!inline` files from `folder` (the flow file's own), never from outside it."""
    root = Path(os.path.realpath(folder))

    def read(name: str) -> str:
        path = Path(os.path.realpath(root / name))
        if path != root and root not in path.parents:
            raise LookupError(f"leads out of the flow's folder {root} (through a symlink)")
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise LookupError(f"names a file of more than {MAX_FILE_BYTES // 2**20} MiB")
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise LookupError(f"names a file that is not there: no {name} in {root}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise LookupError(f"names a file that cannot be read: {exc}") from None

    return read


def given_files(files: Mapping[str, str]) -> InlineFiles:
    """Read `!inline` files from a mapping of names (relative to the flow) to texts."""

    def read(name: str) -> str:
        key = str(PurePosixPath(name.replace("\\", "/")))
        if key not in files:
            raise LookupError(f"names a file that was not given with the flow: no {key} among "
                              f"{', '.join(sorted(files)) or 'no files'}")
        return files[key]

    return read
