"""The store's tables: runs, the step journal, logs, flow and script versions, workers.

Every timestamp is float epoch seconds. JSON columns hold plain Python values and are
stored whole. Objects the store returns are plain records (engine/store/records.py),
bound to nothing, so they stay usable after the call that produced them.

The database gets these tables (and the app's, app/services/models.py) from the migrations in
engine/store/migrations/, applied at start (engine/store/schema.py): a change here needs
a new migration there; tests/engine/test_store_migrations.py finds any difference.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, false

from engine.store.records import column, record


class RunStatus(StrEnum):
    """Where a run is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUSPENDED = "suspended"
    SUCCESS = "success"
    FAILURE = "failure"
    CANCELED = "canceled"


TERMINAL_STATUSES = frozenset({RunStatus.SUCCESS, RunStatus.FAILURE, RunStatus.CANCELED})


class StepStatus(StrEnum):
    """Where one step (one journal entry) is."""

    RUNNING = "running"
    SUCCESS = "success"
    FAILURE = "failure"
    SKIPPED = "skipped"
    WAITING = "waiting"


def _json() -> Any:
    # JSON columns hold any plain value, None included.
    return column(JSON, nullable=True, default=None)


def _run_fk() -> Any:
    # Deleting a run takes its journal and logs with it.
    return ForeignKey("runs.id", ondelete="CASCADE")


@record(
    "runs",
    # In the claim's order, so a claim reads the first entries instead of sorting
    # every queued run (10 ms a claim with 10,000 queued).
    Index("ix_runs_queue", "status", "scheduled_for", "created_at", "id"),
    Index("ix_runs_created", "created_at"),
    Index("ix_runs_path_created", "path", "created_at"),
    Index("ix_runs_parent", "parent_run_id"),
    Index("ix_runs_root", "root_run_id"),
    Index("ix_runs_worker", "worker_id"),
)
class Run:
    """One run of a flow or a script: the single source of truth for its progress."""

    id: str = column(String(64), primary_key=True)
    """Given by the caller (e.g. a deterministic schedule firing id) or a uuid4 hex."""
    kind: str
    """"flow", "script" or "part" (a piece of a flow run that any worker may take)."""
    path: str
    """The flow or script path, or the file name of an ad-hoc run."""
    workspace: str = "main"
    args: Any = _json()
    """The run's input arguments."""
    flow: Any = _json()
    """Snapshot of the flow value being run, so a resumed run runs the same flow."""
    status: str = RunStatus.QUEUED.value
    result: Any = _json()
    error: Any = _json()
    created_at: float
    scheduled_for: float
    """The run may not start before this time."""
    started_at: Optional[float] = None
    finished_at: Optional[float] = None
    worker_id: Optional[str] = None
    """The worker holding the run while it is running through the queue."""
    heartbeat_at: Optional[float] = None
    tag: Optional[str] = None
    """Which workers may take it, e.g. "python3", "bash", "flow"."""
    parent_run_id: Optional[str] = None
    root_run_id: Optional[str] = None
    """The top-most run of a run tree; a top-level run is its own root."""
    schedule_id: Optional[str] = None
    trigger: str = "api"
    """"cli", "api", "schedule", "webhook" or "preview"."""
    state: Any = _json()
    """Small executor bookkeeping that belongs to the whole run."""


@record("steps")
class StepRecord:
    """One entry of a run's journal: what happened at one step position."""

    run_id: str = column(String(64), _run_fk(), primary_key=True)
    key: str = column(primary_key=True)
    """The step's position in the flow, e.g. "a", "loop/3/b", "br/1/c"."""
    step_id: Optional[str] = None
    iteration: Optional[int] = None
    status: str = StepStatus.RUNNING.value
    result: Any = _json()
    error: Any = _json()
    attempts: int = 0
    started_at: Optional[float] = None
    finished_at: Optional[float] = None
    data: Any = _json()
    """Step bookkeeping such as sleep_until or suspend approvals."""


@record("logs", Index("ix_logs_run", "run_id", "id"), Index("ix_logs_run_step", "run_id", "step_key", "id"))
class LogEntry:
    """One log line of a run, append-only; `id` orders the lines."""

    # SQLite only autoincrements an INTEGER PRIMARY KEY.
    id: Optional[int] = column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                               autoincrement=True, default=None)
    run_id: str = column(String(64), _run_fk())
    step_key: Optional[str] = None
    ts: float
    stream: str = "stdout"
    line: str = column(Text)


@record("flow_versions")
class FlowVersion:
    """One saved version of a flow document."""

    workspace: str = column(primary_key=True, default="main")
    path: str = column(primary_key=True)
    version: int = column(primary_key=True)
    summary: str = ""
    document: Any = _json()
    created_at: float
    created_by: Optional[str] = None


@record("script_versions")
class ScriptVersion:
    """One saved version of a script."""

    workspace: str = column(primary_key=True, default="main")
    path: str = column(primary_key=True)
    version: int = column(primary_key=True)
    language: str
    content: str = column(Text)
    args_schema: Any = _json()
    """JSON Schema of the script's arguments (named so to keep pydantic's `schema` free)."""
    summary: str = ""
    created_at: float
    lock: Optional[str] = column(Text, default=None)
    """The exact dependencies this version runs with (engine/deps/locks.py); None: it needs none."""
    dedicated_worker: bool = column(default=False, server_default=false())
    """Its runs (and flow steps using it) call main in a warm worker of this version (engine/runners/dedicated.py)."""


@record("workers")
class Worker:
    """A process that claims queued runs and heartbeats while it holds them."""

    id: str = column(primary_key=True)
    hostname: Optional[str] = None
    tags: Any = _json()
    """The run tags it takes; None takes every tag."""
    started_at: float
    heartbeat_at: float
    status: str = "alive"
    """"alive", "stopped" (retired cleanly) or "lost" (heartbeat went stale)."""


@record("schedules")
class Schedule:
    """A cron schedule that runs a flow or a script; its path names it, as in Windmill."""

    workspace: str = column(primary_key=True, default="main")
    path: str = column(primary_key=True)
    schedule: str
    """The cron expression: 5 fields, or 6 with seconds first."""
    timezone: str = "UTC"
    """The IANA time zone the expression is read in."""
    script_path: str
    """The flow or script it runs."""
    is_flow: bool = True
    args: Any = _json()
    enabled: bool = True
    catch_up: str = "skip"
    """After downtime: "skip" missed firings, or "latest" to run the latest missed one once."""
    on_failure: Optional[str] = None
    """"script/<path>" or "flow/<path>": run with the error when a scheduled run fails."""
    summary: str = ""
    created_at: float
    edited_at: float
    checked_until: float
    """Firings at or before this time have been handled (run or skipped)."""
    failures_checked_until: float
    """Failed runs that finished at or before this time have had their handler run."""
    error: Optional[str] = None
    """Why the scheduler does not fire it (its expression matches no date); saving clears it."""


TABLES = [
    Run.__table__,
    StepRecord.__table__,
    LogEntry.__table__,
    FlowVersion.__table__,
    ScriptVersion.__table__,
    Worker.__table__,
    Schedule.__table__,
]


@record("variables")
class Variable:
    """A named value scripts and flows read; a secret one is stored encrypted."""

    workspace: str = column(primary_key=True, default="main")
    path: str = column(primary_key=True)
    value: str = column(Text, default="")
    """The value as given, or its Fernet token when `is_secret`."""
    is_secret: bool = False
    description: str = ""
    created_at: float
    updated_at: float


@record("resources")
class Resource:
    """A typed JSON value (connection settings, state), checked against its type's schema."""

    workspace: str = column(primary_key=True, default="main")
    path: str = column(primary_key=True)
    resource_type: str
    value: Any = _json()
    description: str = ""
    created_at: float
    updated_at: float


@record("resource_types")
class ResourceType:
    """A custom resource type: a name and the JSON Schema its resources' values follow."""

    workspace: str = column(primary_key=True, default="main")
    name: str = column(primary_key=True)
    type_schema: Any = _json()
    """JSON Schema (named so to keep pydantic's `schema` free)."""
    description: str = ""
    created_at: float


@record("flow_user_states")
class FlowUserState:
    """One key of a run's user state (`wmill.set_flow_user_state`)."""

    run_id: str = column(String(64), _run_fk(), primary_key=True)
    key: str = column(primary_key=True)
    value: Any = _json()


TABLES.extend([
    Variable.__table__,
    Resource.__table__,
    ResourceType.__table__,
    FlowUserState.__table__,
])
