"""A sync folder written as Windmill's CLI writes one, pushed into a fresh Millrace with
`wmill sync push` and pulled back into an empty folder with `wmill sync pull`: the same files."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from tests.app.server import Server, free_port, start, stop
from tests.app.wmillcli import Wmill, require_cli, tree

SYNC_FOLDER = {
    "wmill.yaml": "includes:\n  - f/trip/**\n",
    "f/trip/folder.meta.yaml": "summary: a round trip\ndisplay_name: Trip\nextra_perms: {}\nowners: []\n",
    "f/trip/hello.py": 'def main(name: str = "world"):\n    return {"greeting": "hello " + name}\n',
    "f/trip/hello.script.yaml": (
        "summary: says hello\ndescription: ''\nkind: script\nschema:\n"
        "  $schema: https://json-schema.org/draft/2020-12/schema\n  type: object\n  order:\n    - name\n"
        "  properties:\n    name:\n      type: string\n      default: world\n  required: []\n"),
    "f/trip/double.flow/flow.yaml": (
        "summary: doubles\ndescription: ''\nvalue:\n  modules:\n    - id: a\n      value:\n"
        "        type: rawscript\n        content: '!inline a.inline_script.py'\n        input_transforms:\n"
        "          x:\n            type: javascript\n            expr: flow_input.x\n        language: python3\n"
        "schema:\n  type: object\n  properties:\n    x:\n      type: integer\n  required:\n    - x\n"),
    "f/trip/double.flow/a.inline_script.py": "def main(x: int):\n    return x * 2\n",
    "f/trip/greeting.variable.yaml": "description: a plain one\nvalue: hello\nis_secret: false\n",
    "f/trip/api.resource.yaml": "description: the API\nvalue:\n  url: http://x\nresource_type: trip_api\n",
    "trip_api.resource-type.yaml": (
        "description: an API\nschema:\n  type: object\n  properties:\n    url:\n      type: string\n"),
}
CLI_CACHE = "wmill-lock.yaml"
"""The CLI's own record of the hashes it last saw (made by every pull and push), not workspace content."""


@pytest.fixture
def empty_app(app_server: Server) -> Iterator[Server]:
    """A second Millrace on a fresh database (serving the session app's frontend bundle)."""
    port = int(app_server.url.rsplit(":", 1)[1])
    with tempfile.TemporaryDirectory(prefix="millrace-empty-") as workdir:
        server = start(free_port(), Path(workdir), web_port=port)
        try:
            yield server
        finally:
            stop(server)


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def test_a_sync_folder_pushed_then_pulled_comes_back_the_same(empty_app: Server, tmp_path: Path):
    require_cli()
    (tmp_path / "home").mkdir()
    wmill = Wmill(tmp_path / "home", empty_app.url, empty_app.token)
    wmill.add_workspace()
    pushed = write(tmp_path / "pushed", SYNC_FOLDER)
    wmill("sync", "push", "--yes", cwd=pushed)

    pulled = write(tmp_path / "pulled", {"wmill.yaml": SYNC_FOLDER["wmill.yaml"]})
    wmill("sync", "pull", "--yes", cwd=pulled)
    got = {name: text for name, text in tree(pulled).items() if name != CLI_CACHE}
    assert got == SYNC_FOLDER

    again = wmill("sync", "push", "--yes", cwd=pushed)
    assert "0 changes to apply" in again.stdout + again.stderr
