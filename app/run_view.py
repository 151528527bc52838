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

from app import approvals, present
from engine import RunJournal

PAGE_ITERATIONS = 50
"""Iterations of a loop shown at a time."""
LOG_LINES = 200
"""Log lines shown at a time per step (and for the run itself); the rest stays in the store."""
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
    placed: list[tuple[Any, int, dict[str, str]]] = []  # record, depth, loop fields
    counts: dict[str, int] = {}
    loops: list[Any] = []
    for record in journal.top_level(results=False):  # rows show no results: a loop's may be huge
        if not journal.is_loop(record.step_id):
            placed.append((record, 0, {}))
            continue
        if "progress" not in (record.data or {}) and record.status != "running":
            record = store.load_step(run.id, record.key) or record  # a loop run before loops kept progress
        start = max(pages.loops.get(record.key, 0), 0)
        page = journal.iterations(record.key, start, PAGE_ITERATIONS)
        counts[record.key] = present.loop_count(record, page[-1].iteration if page else None)
        fields = {"loop": present.loop_summary(record, counts[record.key]),
                  **present.pager(start, counts[record.key], PAGE_ITERATIONS)}
        placed += [(record, 0, fields)] + [(row, 1, {}) for row in page]
        loops.append(record)
    shown = [record for record, _, _ in placed]
    logs, more = _logs(store, run.id, shown, pages.logs)
    statuses = present.step_statuses(shown, run_suspended=run.status == "suspended")
    return RunView(
        run=run,
        steps=[_row(record, depth, fields, logs.get(record.key, []),
                    present.log_pager(pages.logs.get(record.key, 0), len(logs.get(record.key, [])),
                                      record.key in more, LOG_LINES))
               for record, depth, fields in placed],
        shown=shown, counts=counts, run_logs="\n".join(logs.get(None, [])),
        decisions=approvals.decisions(journal.approval_steps()),
        statuses=present.loop_failures(statuses, loops),
    )


def _logs(store: Any, run_id: str, shown: list[Any],
          starts: dict[str, int]) -> tuple[dict[str | None, list[str]], set[str | None]]:
    """A page of LOG_LINES lines of each step shown (from its start) and of the run, and
    which have more after it."""
    lines: dict[str | None, list[str]] = defaultdict(list)
    keys = [None] + [record.key for record in shown]
    for entry in store.get_step_logs(run_id, keys, LOG_LINES, skip=starts):
        lines[entry.step_key].append(entry.line)
    more = {key for key, found in lines.items() if len(found) > LOG_LINES}
    return {key: found[:LOG_LINES] for key, found in lines.items()}, more


def _row(record: Any, depth: int, fields: dict[str, str], logs: list[str],
         log_pager: dict[str, str]) -> dict[str, str]:
    row = present.step_row(record, logs)
    row.update({name: fields.get(name, "") for name in LOOP_FIELDS})
    row.update(log_pager, depth=str(depth))
    return row
