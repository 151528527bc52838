"""A run's journal as people read it, a part at a time: its top-level steps, one page of a
loop's iterations, and the steps that asked for approval.

A run of a 1,000,000-iteration loop has millions of records; a page showing the run,
an approval or a resume reads the few it needs by exact key (see
`engine.executor.iterations`), never the whole journal.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from engine.executor.iterations import flow_level, level_ids

LOOPS = ("forloopflow", "whileloopflow")
KEPT_FLOWS = 64
"""Runs whose parsed flow is kept: a page watching a run reads its journal at every event,
and parsing a flow snapshot (which never changes) took half of such a read."""
_flows: OrderedDict[str, Any] = OrderedDict()
_flows_lock = threading.Lock()


class RunJournal:
    """Reads one run's journal in parts.

    Args:
        store: the Store (or a MaskedStore, to read what operators may see).
        run: the run, with its flow snapshot.
    """

    def __init__(self, store: Any, run: Any):
        from engine.openflow import flow_from_data, iter_modules

        self.store, self.run = store, run
        with _flows_lock:
            kept = _flows.get(run.id)
            if kept is not None:
                _flows.move_to_end(run.id)
        if kept is None:
            flow = flow_from_data({"value": run.flow or {"modules": []}}, source=f"run {run.id}").value
            kept = (flow, {module.id: module for _, module in iter_modules(flow)})
            with _flows_lock:
                _flows[run.id] = kept
                while len(_flows) > KEPT_FLOWS:
                    _flows.popitem(last=False)
        self.flow, self.modules = kept

    def top_level(self, *, results: bool = True) -> list[Any]:
        """The records of the flow's top level (branches included, loop bodies not), in flow
        order; without their results (None) when `results` is False."""
        ids = level_ids(flow_level(self.flow))
        found = self.store.load_steps_at(self.run.id, ids, results=results)
        return [found[step_id] for step_id in ids if step_id in found]

    def is_loop(self, step_id: str) -> bool:
        """Whether the step with this id is a for or while loop."""
        module = self.modules.get(step_id)
        return module is not None and module.value.type in LOOPS

    def iterations(self, loop_key: str, start: int, count: int) -> list[Any]:
        """The records of iterations `start` to `start + count - 1` of the loop at
        `loop_key` (their level: nested loops show as one record each), in order."""
        module = self.modules.get(loop_key.rsplit("/", 1)[-1])
        if module is None or module.value.type not in LOOPS:
            return []
        ids = level_ids(module.value.modules)
        keys = [f"{loop_key}/{index}/{step_id}" for index in range(max(start, 0), max(start, 0) + count)
                for step_id in ids]
        found = self.store.load_steps_at(self.run.id, keys)
        return [found[key] for key in keys if key in found]

    def around(self, key: str) -> list[Any]:
        """The top level's records and, for a key inside a loop (`l/3/ask`), those of its
        iteration: what ran before a step, as far as a reader needs it."""
        rows = self.top_level()
        loop_at, _, _ = key.rpartition("/")
        if loop_at:
            loop_key, _, index = loop_at.rpartition("/")
            if index.isdigit():
                rows += self.iterations(loop_key, int(index), 1)
        return rows

    def steps_inside(self, step_id: str) -> list[str]:
        """The ids of every step inside a loop or branch step, at any depth."""
        from engine.openflow.walk import child_modules

        module = self.modules.get(step_id)
        stack, ids = ([module] if module is not None else []), []
        while stack:
            for _, child in child_modules(stack.pop(), ""):
                ids.append(child.id)
                stack.append(child)
        return ids

    def approval_steps(self) -> dict[str, Any]:
        """Every record of the steps that wait for approval, by key ({} when the flow has none)."""
        from engine.executor.suspend import wants_suspend

        ids = [step_id for step_id, module in self.modules.items() if wants_suspend(module)]
        return self.store.load_steps_of(self.run.id, ids) if ids else {}
