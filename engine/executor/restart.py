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


def records_before(records: dict[str, Any], from_key: str, flow_value: Any) -> list[str]:
    """The keys of finished records that a restart from `from_key` keeps, in run order.

    Raises:
        NotFound: `from_key` is not a step of the run's journal.
    """
    if from_key not in records:
        raise NotFound(f"step {from_key!r} is not in the run's journal; choose one of: "
                       f"{', '.join(sorted(records)) or '(none)'}")
    order = execution_order(flow_value)
    limit = key_order(from_key, order)
    kept = [key for key, row in records.items()
            if row.status in ("success", "failure", "skipped")
            and key_order(key, order) < limit
            and not _encloses(key, from_key, order)]
    return sorted(kept, key=lambda key: key_order(key, order))
