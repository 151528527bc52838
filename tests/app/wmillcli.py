"""Windmill's own CLI (`windmill-cli` from npm, unmodified, `make setup` puts it under
.tools/) driven as a person would: a profile in a fresh HOME, commands run in a folder."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WMILL = ROOT / ".tools" / "node_modules" / ".bin" / "wmill"
TIMEOUT = 120
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
"""The CLI colours its output whatever NO_COLOR says; tests read the text."""


class Wmill:
    """`wmill` with its own HOME (its profiles), pointed at one app."""

    def __init__(self, home: Path, url: str, token: str):
        self.home, self.url, self.token = home, url, token

    def __call__(self, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "HOME": str(self.home), "NO_COLOR": "1", "FORCE_COLOR": "0"}
        done = subprocess.run([str(WMILL), *args], cwd=cwd or self.home, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT, check=False)
        done.stdout, done.stderr = ANSI.sub("", done.stdout), ANSI.sub("", done.stderr)
        if check and done.returncode != 0:
            raise AssertionError(f"wmill {' '.join(args)} exited {done.returncode}:\n{done.stdout[-3000:]}\n"
                                 f"{done.stderr[-3000:]}")
        return done

    def add_workspace(self) -> None:
        self("workspace", "add", "main", "main", f"{self.url}/", "--token", self.token)


def require_cli() -> None:
    if not WMILL.exists():
        pytest.fail("windmill-cli is missing: run `make setup` (npm install --prefix .tools windmill-cli@1.819.0)")


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def tree(folder: Path) -> dict[str, str]:
    """Every file under `folder` by relative path, with its text."""
    return {str(path.relative_to(folder)): path.read_text() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture
def wmill(app_server: Any, tmp_path: Path) -> Iterator[Wmill]:
    """`wmill` with a profile of the session's app (workspace `main`, the admin token)."""
    require_cli()
    home = tmp_path / "home"
    home.mkdir()
    cli = Wmill(home, app_server.url, app_server.token)
    cli.add_workspace()
    yield cli
