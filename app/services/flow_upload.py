"""A flow uploaded on the import page: one file, several files, or a .zip of a folder.

`wmill sync pull` writes a flow as a folder: `flow.yaml` and the files its
`!inline <file>` fields name. A browser cannot hand over a folder reliably, so the page
takes either a .zip of the folder (names keep their subfolders) or flow.yaml chosen
together with its files (names are the files' own, so `!inline` names with subfolders
need the .zip). The flow file is `flow.yaml`/`flow.json`, else the one `*.flow.yaml`/
`*.flow.json`, else the only .yaml/.yml/.json file. The answer is the flow's text with
every `!inline` file read in (the document written anew), or as uploaded when it names
none, ready for the import dialog.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from typing import Any

from app.services import catalog
from app import settings

MAX_FILES = 1000
FLOW_SUFFIXES = (".yaml", ".yml", ".json")


class UploadError(catalog.CatalogError):
    """An upload that holds no usable flow (the message says why)."""


def flow_text(files: list[tuple[str, bytes]]) -> tuple[str, str]:
    """(the flow's text with its `!inline` files read in, a problem or "").

    When the flow parses but an `!inline` file is missing or refused, the flow's own
    text comes back with the problem, so the page can show both.

    Raises:
        UploadError: no flow file among the upload, a broken zip, too much data.
    """
    from engine import BadInput, dump_flow, parse_flow

    entries = _entries(files)
    name = _flow_file(entries)
    text = _text(name, entries[name])
    folder = posixpath.dirname(name)
    inline = {posixpath.relpath(other, folder or "."): _decoded(data)
              for other, data in entries.items() if other != name and _inside(other, folder)}
    try:
        document = parse_flow(text, source=posixpath.basename(name), files=inline)
    except BadInput as exc:
        return text, str(exc)
    if "!inline " not in text:
        return text, ""  # as written: comments and layout kept
    fmt = "json" if name.endswith(".json") else "yaml"
    return catalog.export_text(dump_flow(document), fmt), ""


def _entries(files: list[tuple[str, bytes]]) -> dict[str, bytes]:
    """Every uploaded file by its name; a .zip gives the files inside it instead."""
    entries: dict[str, bytes] = {}
    for name, data in files:
        if name.lower().endswith(".zip"):
            entries.update(_unzipped(name, data))
        else:
            entries[posixpath.basename(name.replace("\\", "/"))] = data
    if not entries:
        raise UploadError("the upload holds no file")
    return entries


def _unzipped(name: str, data: bytes) -> dict[str, bytes]:
    limit = settings.max_body_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
            if len(members) > MAX_FILES:
                raise UploadError(f"{name} holds {len(members)} files; at most {MAX_FILES} are read")
            if sum(m.file_size for m in members) > limit:
                raise UploadError(f"{name} unpacks to more than {limit:,} bytes (MILLRACE_MAX_BODY_BYTES)")
            return {posixpath.normpath(m.filename.replace("\\", "/")): archive.read(m) for m in members}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise UploadError(f"{name} is not a readable zip file: {exc}") from None


def _flow_file(entries: dict[str, Any]) -> str:
    """Which of the uploaded files is the flow document."""
    for wanted in (lambda n: posixpath.basename(n) in ("flow.yaml", "flow.yml", "flow.json"),
                   lambda n: n.endswith((".flow.yaml", ".flow.yml", ".flow.json")),
                   lambda n: n.endswith(FLOW_SUFFIXES)):
        found = sorted(name for name in entries if wanted(name))
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise UploadError(f"the upload holds several flow files ({', '.join(found)}); upload one flow at a time")
    raise UploadError("the upload holds no flow file: add flow.yaml (or a .json/.yaml flow document)")


def _inside(name: str, folder: str) -> bool:
    return not folder or name.startswith(folder + "/")


def _decoded(data: bytes) -> str:
    # Files beside the flow that are not text (a picture, say) are never script text;
    # one an `!inline` field names reads as its replacement characters, which fail to run.
    return data.decode("utf-8", errors="replace")


def _text(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UploadError(f"{name} is not UTF-8 text") from None
