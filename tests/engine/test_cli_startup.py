"""The CLI's start-up: garbage collection, paused by `python -m engine` while it imports,
is on again before any command does its work."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import cli
from engine.engine import Engine
from tests.flowkit import flow, py


@pytest.fixture
def paused_gc() -> Iterator[None]:
    """Collection off, as `python -m engine` leaves it; restored afterwards."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def test_a_command_other_than_run_collects_again_before_it_works(tmp_path: Path, paused_gc: None,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--db", str(tmp_path / "db.sqlite"), "status", "no-such-run"])
    assert code == cli.EXIT_BAD_INPUT and "no-such-run" in capsys.readouterr().err
    assert gc.isenabled()


def test_run_collects_again_before_the_flow_runs_and_freezes_what_start_up_made(
        tmp_path: Path, paused_gc: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    seen = []
    original = Engine.run

    async def run(self: Engine, *args: object, **kwargs: object) -> object:
        seen.append((gc.isenabled(), gc.get_freeze_count()))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(Engine, "run", run)
    file = tmp_path / "f.json"
    file.write_text(json.dumps(flow(py("a", "def main():\n    return 7\n"))))
    code = cli.main(["--db", str(tmp_path / "db.sqlite"), "run", str(file), "--quiet"])
    assert (code, json.loads(capsys.readouterr().out)) == (cli.EXIT_OK, 7)
    [(enabled, frozen)] = seen
    assert enabled and frozen > 10_000, "the start-up's objects are frozen, collection is on"


def test_the_cli_leaves_collection_alone_when_it_was_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert gc.isenabled()
    cli.main(["--db", str(tmp_path / "db.sqlite"), "status", "no-such-run"])
    assert gc.isenabled() and gc.get_freeze_count() == 0
