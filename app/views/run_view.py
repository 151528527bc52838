"""What a run's page shows, read in parts: never the whole journal, so the page of a run
with a million-iteration loop opens as fast as any other.

It reads the run, the records of the flow's top level, one page of iterations of each
top-level loop, a page of log lines of each step it shows and the steps that asked for
approval. A loop is summarised (iterations by status) from the progress it keeps on its
own record, and its failed steps colour the graph wherever they failed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from app.services import approvals
from app.views import present
from engine import RunJournal

PAGE_ITERATIONS = 50
"""Iterations of a loop shown at a time."""
LOG_LINES = 200
"""Log lines shown at a time per top-level step (and for the run itself); the rest stays
in the store, a page away."""
ITERATION_LOG_LINES = 20
"""Log lines shown at a time per step of a loop's iteration (a page shows fifty of them)."""
LOOP_FIELDS = ("loop", "range", "first", "prev", "next", "last")


@dataclass
class Pages:
    """Where the page is in each loop and each step's log lines."""

    loops: dict[str, int] = field(default_factory=dict)
    """Loop key -> its first iteration shown (0 when absent)."""
    logs: dict[str, int] = field(default_factory=dict)
    """Step key -> its first log line shown (0 when absent)."""


@dataclass
class RunView:
    """One read of a run for its page."""

    run: Any
    steps: list[dict[str, str]]
    """Rows: the top-level steps in flow order, each loop followed by its page of iterations."""
    shown: list[Any]
    """The step records behind the rows."""
    counts: dict[str, int]
    """Loop key -> iterations run (so far)."""
    run_logs: str
    decisions: list[dict[str, Any]]
    statuses: dict[str, str]
    """Step id -> the colour of its node on the graph."""


def read(store: Any, run_id: str, pages: Pages) -> RunView | None:
    """The run as its page shows it, at `pages`; None when there is no such run."""
    run = store.get_run(run_id)
    if run is None:
        return None
    journal = RunJournal(store, run)
    placed, counts, loops = _place(store, journal, pages)
    shown = [record for record, _, _ in placed]
    logs, more = _logs(store, run.id, placed, pages.logs)
    statuses = present.step_statuses(shown, run_suspended=run.status == "suspended")
    rows = []
    for record, depth, fields in placed:
        lines = logs.get(record.key, [])
        pager = present.log_pager(pages.logs.get(record.key, 0), len(lines), record.key in more, _lines(depth))
        rows.append(_row(record, depth, fields, lines, pager))
    return RunView(run=run, steps=rows, shown=shown, counts=counts, run_logs="\n".join(logs.get(None, [])),
                   decisions=approvals.decisions(journal.approval_steps()),
                   statuses=present.loop_failures(statuses, loops))


def _place(store: Any, journal: Any, pages: Pages) -> tuple[list[tuple[Any, int, dict[str, str]]], dict[str, int],
                                                            list[Any]]:
    """The records shown, in order, each with its depth (1 inside a loop) and, for a loop,
    its summary and pager; the loops' iteration counts; the loops' records."""
    placed: list[tuple[Any, int, dict[str, str]]] = []
    counts: dict[str, int] = {}
    loops: list[Any] = []
    for record in journal.top_level(results=False):  # rows show no results: a loop's may be huge
        if not journal.is_loop(record.step_id):
            placed.append((record, 0, {}))
            continue
        if "progress" not in (record.data or {}) and record.status != "running":
            record = store.load_step(journal.run.id, record.key) or record  # run before loops kept progress
        start = max(pages.loops.get(record.key, 0), 0)
        page = journal.iterations(record.key, start, PAGE_ITERATIONS)
        counts[record.key] = present.loop_count(record, page[-1].iteration if page else None)
        fields = {"loop": present.loop_summary(record, counts[record.key]),
                  **present.pager(start, counts[record.key], PAGE_ITERATIONS)}
        placed += [(record, 0, fields)] + [(row, 1, {}) for row in page]
        loops.append(record)
    return placed, counts, loops


def _lines(depth: int) -> int:
    return LOG_LINES if depth == 0 else ITERATION_LOG_LINES


def _logs(store: Any, run_id: str, placed: list[tuple[Any, int, dict[str, str]]],
          starts: dict[str, int]) -> tuple[dict[str | None, list[str]], set[str | None]]:
    """A page of log lines of each step shown (from its start) and of the run, and which
    steps have more after it."""
    depth_of: dict[str | None, int] = {None: 0, **{record.key: depth for record, depth, _ in placed}}
    lines: dict[str | None, list[str]] = defaultdict(list)
    for depth in (0, 1):
        keys = [key for key, at in depth_of.items() if at == depth]
        for entry in store.get_step_logs(run_id, keys, _lines(depth), skip=starts) if keys else []:
            lines[entry.step_key].append(entry.line)
    more = {key for key, found in lines.items() if len(found) > _lines(depth_of[key])}
    return {key: found[:_lines(depth_of[key])] for key, found in lines.items()}, more


def _row(record: Any, depth: int, fields: dict[str, str], logs: list[str],
         log_pager: dict[str, str]) -> dict[str, str]:
    row = present.step_row(record, logs)
    row.update({name: fields.get(name, "") for name in LOOP_FIELDS})
    row.update(log_pager, depth=str(depth))
    return row
