"""The per-run context the interpreter threads through: services, journal, frames."""

from __future__ import annotations

import collections
import functools
import os
import re
import tempfile
from dataclasses import dataclass, field
from typing import Any

from engine.clock import Clock
from engine.events import Event, EventBus
from engine.executor.iterations import flow_level, level_ids
from engine.executor.journal import Journal


@dataclass
class Services:
    """What every run shares: store, runners, evaluator, events, clock, script lookup."""

    store: Any
    runners: Any
    evaluator: Any
    events: EventBus
    clock: Clock
    resolver: Any
    workspace: str = "main"
    run_env: Any = None
    """Optional `(run, key) -> dict` of more script environment (e.g. the app's WM_TOKEN)."""
    worker: Any = None
    """How this process takes part in a queue of workers (`engine.executor.parts.WorkerRole`);
    None: it runs everything itself, in process."""
    masker: Any = None
    """Masks secrets in log lines and events (`engine.masking.Masker`); None: nothing is masked."""


@dataclass
class Frame:
    """One level of nesting: the top level, or one loop iteration.

    `results` holds what steps of this level returned; lookups fall back to the
    enclosing levels, then to the latest result of any step anywhere in the run.
    """

    flow_input: dict[str, Any]
    prefix: str = ""
    iteration: int | None = None
    parent: "Frame | None" = None
    results: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def child(self, *, prefix: str, iteration: int, iter_value: Any) -> "Frame":
        """The frame of one loop iteration: `flow_input.iter` and `iter_parent` set."""
        flow_input = dict(self.flow_input)
        if "iter" in self.flow_input:
            flow_input["iter_parent"] = self.flow_input["iter"]
        flow_input["iter"] = {"index": iteration, "value": iter_value}
        return Frame(flow_input, prefix=prefix, iteration=iteration, parent=self)

    def chain(self) -> list[dict[str, Any]]:
        maps, frame = [], self
        while frame is not None:
            maps.append(frame.results)
            frame = frame.parent
        return maps


class RunContext:
    """Everything one run needs while it executes."""

    def __init__(self, services: Services, run: Any, flow: Any, *, depth: int = 0, journal_prefix: str = "",
                 level: list[Any] | None = None):
        """`level`: the modules that run first, at `journal_prefix` (one loop iteration's,
        one branch's); by default the flow's top level. Their journal records are read;
        loops read theirs as they reach them."""
        self.services = services
        self.run_id: str = run.id
        self.run = run
        self.flow = flow
        self.depth = depth
        self.journal = Journal(services.store, run.id)
        modules = flow_level(flow) if level is None else level
        self.journal.load_keys(journal_prefix + step_id for step_id in level_ids(modules))
        self.latest: dict[str, Any] = {}
        self.flow_env = dict(getattr(flow, "flow_env", None) or {})
        self.lost_workers: dict[str, bool] = {}
        """Whether each earlier holder of this run's steps was lost (engine/executor/losses.py)."""
        self._workdir: str | None = None
        self._run_env: dict[str, str] | None = None

    @property
    def clock(self) -> Clock:
        return self.services.clock

    def results_view(self, frame: Frame) -> collections.ChainMap:
        """`results` as expressions see it: this iteration first, then outer, then latest."""
        return collections.ChainMap(*frame.chain(), self.latest)

    def remember(self, frame: Frame, step_id: str, result: Any) -> None:
        frame.results[step_id] = result
        self.latest[step_id] = result

    def emit(self, kind: str, **fields: Any) -> None:
        """Publish an event of this run, with secrets masked in its data: every event a run
        sends (to pages, the CLI, other processes) passes here."""
        masker = self.services.masker
        if masker is not None and fields.get("data"):
            fields["data"] = masker.data(fields["data"])
        self.services.events.publish(Event(kind=kind, run_id=self.run_id, ts=self.clock.now(), **fields))

    def workdir(self) -> str | None:
        """A directory shared by every step of a `same_worker` flow (it holds ./shared)."""
        if not getattr(self.flow, "same_worker", False):
            return None
        if self._workdir is None:
            root = os.path.join(tempfile.gettempdir(), "millrace-runs", self.run_id)
            os.makedirs(os.path.join(root, "shared"), exist_ok=True)
            self._workdir = root
        return self._workdir

    def script_env(self, key: str) -> dict[str, str]:
        """Environment variables every script of this run sees."""
        extra = self.services.run_env(self.run, key) if self.services.run_env is not None else {}
        return {**self._wm_env(key), **extra}

    def _wm_env(self, key: str) -> dict[str, str]:
        if self._run_env is None:  # what every step of the run shares, read once
            self._run_env = self._wm_run_env()
        return {
            **self._run_env,
            "WM_JOB_ID": f"{self.run_id}:{key}",
            "WM_FLOW_STEP_ID": key.rsplit("/", 1)[-1],
            "WM_STATE_PATH": state_path(self._run_env["WM_FLOW_PATH"] or self.run_id, key),
        }

    def _wm_run_env(self) -> dict[str, str]:
        # Scripts start with a clean environment (the sandbox's): where the app is, for
        # the wmill client, is the one variable of this process they are given.
        app = {"BASE_INTERNAL_URL": os.environ["BASE_INTERNAL_URL"]} if os.environ.get("BASE_INTERNAL_URL") else {}
        return {
            **app,
            "WM_WORKSPACE": self.services.workspace,
            "WM_FLOW_JOB_ID": self.run_id,
            "WM_ROOT_FLOW_JOB_ID": getattr(self.run, "root_run_id", None) or self.run_id,
            "WM_FLOW_PATH": getattr(self.run, "path", "") or "",
        }


def state_path(run_path: str, key: str) -> str:
    """Where `wmill.get_state`/`set_state` keep a step's state: one resource per flow path and step."""
    return _state_path(run_path, re.sub(r"/[0-9]+/", "/", key))


@functools.lru_cache(maxsize=1024)
def _state_path(run_path: str, step: str) -> str:
    # Cached: every script step of every loop iteration asks for it.
    def segment(text: str, default: str) -> str:
        # An item path segment: ASCII letters, digits, _ - . and never "." or "..".
        cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")
        return cleaned if cleaned.strip(".") else default

    return f"u/admin/state/{segment(run_path, 'run')}/{segment(step, 'step')}"
