"""What a run's page shows, read in parts: never the whole journal, so the page of a run
with a million-iteration loop opens as fast as any other.

It reads the run, the records of the flow's top level, one page of iterations of each
top-level loop, the first log lines of the steps it shows and the steps that asked for
approval. A loop is summarised (iterations by status) from the progress it keeps on its
own record, and its failed steps colour the graph wherever they failed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from app import approvals, present
from engine import RunJournal

PAGE_ITERATIONS = 50
"""Iterations of a loop shown at a time."""
LOG_LINES = 200
"""Log lines shown per step (and for the run itself); the rest stays in the store."""
LOOP_FIELDS = ("loop", "range", "first", "prev", "next", "last")


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
    logs_cut: bool
    decisions: list[dict[str, Any]]
    statuses: dict[str, str]
    """Step id -> the colour of its node on the graph."""


def read(store: Any, run_id: str, pages: dict[str, int]) -> RunView | None:
    """The run as its page shows it, `pages` giving the first iteration shown of each loop
    (by loop key; 0 when absent); None when there is no such run."""
    run = store.get_run(run_id)
    if run is None:
        return None
    journal = RunJournal(store, run)
    placed: list[tuple[Any, int, dict[str, str]]] = []  # record, depth, loop fields
    counts: dict[str, int] = {}
    loops: list[Any] = []
    for record in journal.top_level(results=False):  # rows show no results: a loop's may be huge
        if not journal.is_loop(record.step_id):
            placed.append((record, 0, {}))
            continue
        if "progress" not in (record.data or {}) and record.status != "running":
            record = store.load_step(run.id, record.key) or record  # a loop run before loops kept progress
        start = max(pages.get(record.key, 0), 0)
        page = journal.iterations(record.key, start, PAGE_ITERATIONS)
        counts[record.key] = present.loop_count(record, page[-1].iteration if page else None)
        fields = {"loop": present.loop_summary(record, counts[record.key]),
                  **present.pager(start, counts[record.key], PAGE_ITERATIONS)}
        placed += [(record, 0, fields)] + [(row, 1, {}) for row in page]
        loops.append(record)
    shown = [record for record, _, _ in placed]
    logs, cut = _logs(store, run.id, shown)
    statuses = present.step_statuses(shown, run_suspended=run.status == "suspended")
    return RunView(
        run=run,
        steps=[_row(record, depth, fields, logs.get(record.key, []), record.key in cut)
               for record, depth, fields in placed],
        shown=shown, counts=counts, run_logs="\n".join(logs.get(None, [])), logs_cut=bool(cut),
        decisions=approvals.decisions(journal.approval_steps()),
        statuses=present.loop_failures(statuses, loops),
    )


def _logs(store: Any, run_id: str, shown: list[Any]) -> tuple[dict[str | None, list[str]], set[str | None]]:
    """The first LOG_LINES lines of each step shown and of the run, and which have more."""
    lines: dict[str | None, list[str]] = defaultdict(list)
    for entry in store.get_step_logs(run_id, [None] + [record.key for record in shown], LOG_LINES):
        lines[entry.step_key].append(entry.line)
    cut = {key for key, found in lines.items() if len(found) > LOG_LINES}
    return {key: found[:LOG_LINES] for key, found in lines.items()}, cut


def _row(record: Any, depth: int, fields: dict[str, str], logs: list[str], cut: bool) -> dict[str, str]:
    row = present.step_row(record, logs)
    row.update({name: fields.get(name, "") for name in LOOP_FIELDS})
    row.update({"depth": str(depth), "logs_cut": "1" if cut else ""})
    return row
