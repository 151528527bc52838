"""Step ids Windmill's engine makes up: a step may come without an `id`.

Windmill's published schema marks a step's `id` as required, yet its engine accepts a
step without one (it draws a random id), and flows written for its engine or by hand
rely on that. Here such a step gets the first free name of a, b, ..., z, aa, ab, ...
(the names Windmill's editor gives), so a load is deterministic: a restarted run, the
editor and `results.<id>` all see the same id. The failure and preprocessor steps get
`failure` and `preprocessor`. A name the flow already uses, or that one of its
expressions reads as `results.<name>`, is never given: an expression reading a step
that does not exist keeps reading nothing.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import string
from typing import Any, Iterable, Iterator

from engine.openflow.checks import RESERVED_IDS
from engine.openflow.rawsteps import raw_steps

_SPECIAL = {"failure_module": "failure", "preprocessor_module": "preprocessor"}
_READ_IDS = re.compile(r"""results\s*(?:\??\.\s*([A-Za-z_$][\w$]*)|(?:\?\.)?\[\s*\\?["']([^"'\\]+)\\?["']\s*\])""")


def step_names() -> Iterator[str]:
    """a, b, ..., z, aa, ab, ..., zz, aaa, ... without end."""
    for length in itertools.count(1):
        for letters in itertools.product(string.ascii_lowercase, repeat=length):
            yield "".join(letters)


def free_step_id(taken: Iterable[str]) -> str:
    """The first name of `step_names()` that is neither taken nor reserved."""
    used = set(taken)
    return next(name for name in step_names() if name not in used and name not in RESERVED_IDS)


def with_step_ids(document: Any) -> Any:
    """The flow document (raw data, `{"value": {...}}`) with an id on every step.

    Returns `document` itself when every step has one, else a copy with ids filled in.
    Data of the wrong shape is left alone for validation to report.
    """
    if not any("id" not in step for _, step in raw_steps(document)):
        return document
    document = copy.deepcopy(document)
    value = document["value"]
    for key, name in _SPECIAL.items():
        step = value.get(key)
        if isinstance(step, dict) and "id" not in step:
            step["id"] = name
    taken = {step["id"] for _, step in raw_steps(document) if isinstance(step.get("id"), str)}
    taken |= {group for match in _READ_IDS.finditer(json.dumps(value)) for group in match.groups() if group}
    for _, step in raw_steps(document):
        if "id" not in step:
            step["id"] = free_step_id(taken)
            taken.add(step["id"])
    return document
