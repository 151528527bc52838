"""Which journal keys make up one level of a flow, and a loop's iterations read from the
journal a page at a time.

A level is what runs with one frame: the flow's top level, or one loop iteration. Its
steps are the modules of that level and of the branches inside it (branches run in
their parent's frame); a loop's own body is the next level down. So the records of
iteration 7 of loop `l` are exactly `l/7/<id>` for the ids of the body's level, and a
page of iterations is a list of exact keys: no scan, whatever the journal's length.
"""

from __future__ import annotations

from typing import Any

from engine.executor.journal import Journal

PAGE_ITERATIONS = 500
"""Iterations whose records are read from the store in one go."""
_LOOPS = ("forloopflow", "whileloopflow")


def level_ids(modules: list[Any]) -> list[str]:
    """The ids of the steps that run in the frame these modules run in."""
    ids: list[str] = []
    for module in modules:
        ids.append(module.id)
        value = module.value
        if value.type in _LOOPS:
            continue
        for branch in getattr(value, "branches", None) or []:
            ids.extend(level_ids(branch.modules or []))
        ids.extend(level_ids(getattr(value, "default", None) or []))
    return ids


def flow_level(flow: Any) -> list[Any]:
    """The modules of a flow's top level in run order: its preprocessor, its modules, its
    failure module."""
    first, last = getattr(flow, "preprocessor_module", None), getattr(flow, "failure_module", None)
    return [m for m in (first, *(flow.modules or []), last) if m is not None]


class IterationPages:
    """The journal records of one loop's iterations, read a page ahead of the loop and let
    go of once each iteration is done.

    Args:
        journal: the run's journal.
        key: the loop step's journal key.
        body: the loop's modules.
        in_order: iterations start one after the other (a sequential loop): once an
            iteration has no record, none after it has either, and reading stops.
    """

    def __init__(self, journal: Journal, key: str, body: list[Any], *, in_order: bool,
                 page: int = PAGE_ITERATIONS):
        self.journal, self.key, self.page, self.in_order = journal, key, page, in_order
        self.ids = level_ids(body)
        self.read_to = 0
        self.ended = False

    def keys(self, index: int) -> list[str]:
        """The journal keys of one iteration's level."""
        return [f"{self.key}/{index}/{step_id}" for step_id in self.ids]

    def enter(self, index: int) -> None:
        """Make sure the records of iteration `index` are in memory before it runs."""
        while not self.ended and index >= self.read_to:
            start, self.read_to = self.read_to, self.read_to + self.page
            found = self.journal.load_keys(k for i in range(start, self.read_to) for k in self.keys(i))
            last = f"{self.key}/{self.read_to - 1}/"
            if self.in_order and not any(key.startswith(last) for key in found):
                self.ended = True

    def leave(self, index: int) -> None:
        """Iteration `index` is done: its records need not stay in memory."""
        self.journal.release(self.keys(index))

    def close(self) -> None:
        """The loop is over (or unwinding): let go of whatever is still held below it."""
        self.journal.release_under(f"{self.key}/")
