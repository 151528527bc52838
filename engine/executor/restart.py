"""Which journal records a restart keeps: those that ran before the chosen step.

A journal key is a step id prefixed by the loop iterations it sits in (`l/3/s`). Its
place in execution order is the tuple (position of `l` in the flow, 3, position of `s`),
positions being the depth-first run order of the flow's steps. A restart from key K
keeps the finished records that sort before K, except the steps that enclose K (its
loop, its branch): those run again, replaying the kept records inside them.
"""

from __future__ import annotations

from typing import Any

from engine.errors import NotFound
from engine.executor.journal import DONE


def execution_order(flow_value: Any) -> dict[str, tuple[int, str]]:
    """For every step id of a flow: its position in run order and its walk path."""
    from engine.openflow import flow_from_data, iter_modules

    document = flow_from_data({"value": flow_value}, source="run snapshot")
    return {module.id: (index, path) for index, (path, module) in enumerate(iter_modules(document))}


def key_order(key: str, order: dict[str, tuple[int, str]]) -> tuple[int, ...]:
    """The sort key of a journal key: step positions interleaved with loop indexes."""
    parts = key.split("/")
    out: list[int] = []
    for index, part in enumerate(parts):
        if index % 2:
            out.append(int(part) if part.isdigit() else 0)
        else:
            out.append(order.get(part, (len(order), ""))[0])
    return tuple(out)


def _encloses(outer: str, inner: str, order: dict[str, tuple[int, str]]) -> bool:
    """Whether journal key `outer` is a step that contains step `inner` (same iterations)."""
    outer_prefix, _, outer_id = outer.rpartition("/")
    inner_id = inner.rsplit("/", 1)[-1]
    if outer_prefix and not inner.startswith(outer_prefix + "/"):
        return False
    outer_path = order.get(outer_id, (0, ""))[1]
    inner_path = order.get(inner_id, (0, ""))[1]
    return bool(outer_path) and inner_path.startswith(outer_path + ".")


class RestartPoint:
    """Where a restart starts (`from_key`) in a run of `flow_value`: which of the old
    run's records the new run keeps."""

    def __init__(self, from_key: str, flow_value: Any):
        self.from_key = from_key
        self.order = execution_order(flow_value)
        self.limit = key_order(from_key, self.order)

    def keeps(self, key: str, status: str) -> bool:
        """Whether the record at `key` (with `status`) is kept: it finished before `from_key`
        and does not enclose it."""
        return (status in DONE and key_order(key, self.order) < self.limit
                and not _encloses(key, self.from_key, self.order))


def unknown_step(from_key: str, some_keys: list[str]) -> NotFound:
    """The error for a restart from a step the run's journal does not have."""
    shown = ", ".join(some_keys[:20]) + (", …" if len(some_keys) > 20 else "")
    return NotFound(f"step {from_key!r} is not in the run's journal; choose one of: {shown or '(none)'}")
