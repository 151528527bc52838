"""The store's tables: runs, the step journal, logs, flow and script versions, workers.

Every timestamp is float epoch seconds. JSON columns hold plain Python values and are
stored whole. Objects the store returns are transient instances (never bound to a
session), so they stay usable after the call that produced them.

The database gets these tables (and the app's, app/services/models.py) from the migrations in
engine/store/migrations/, applied at start (engine/store/schema.py): a change here needs
a new migration there; tests/engine/test_store_migrations.py finds any difference.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Text, false
from sqlmodel import Field, SQLModel


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


def _run_fk() -> Any:
    # Deleting a run takes its journal and logs with it.
    return ForeignKey("runs.id", ondelete="CASCADE")


class Run(SQLModel, table=True):
    """One run of a flow or a script: the single source of truth for its progress."""

    __tablename__ = "runs"
    __table_args__ = (
        # In the claim's order, so a claim reads the first entries instead of sorting
        # every queued run (10 ms a claim with 10,000 queued).
        Index("ix_runs_queue", "status", "scheduled_for", "created_at", "id"),
        Index("ix_runs_created", "created_at"),
        Index("ix_runs_path_created", "path", "created_at"),
        Index("ix_runs_parent", "parent_run_id"),
        Index("ix_runs_root", "root_run_id"),
        Index("ix_runs_worker", "worker_id"),
    )

    id: str = Field(primary_key=True, sa_type=String(64))
    """Given by the caller (e.g. a deterministic schedule firing id) or a uuid4 hex."""
    kind: str
    """"flow", "script" or "part" (a piece of a flow run that any worker may take)."""
    path: str
    """The flow or script path, or the file name of an ad-hoc run."""
    workspace: str = "main"
    args: Any = Field(default=None, sa_type=JSON, nullable=True)
    """The run's input arguments."""
    flow: Any = Field(default=None, sa_type=JSON, nullable=True)
    """Snapshot of the flow value being run, so a resumed run runs the same flow."""
    status: str = RunStatus.QUEUED.value
    result: Any = Field(default=None, sa_type=JSON, nullable=True)
    error: Any = Field(default=None, sa_type=JSON, nullable=True)
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
    state: Any = Field(default=None, sa_type=JSON, nullable=True)
    """Small executor bookkeeping that belongs to the whole run."""


class StepRecord(SQLModel, table=True):
    """One entry of a run's journal: what happened at one step position."""

    __tablename__ = "steps"

    run_id: str = Field(sa_column_args=[_run_fk()], primary_key=True, sa_type=String(64))
    key: str = Field(primary_key=True)
    """The step's position in the flow, e.g. "a", "loop/3/b", "br/1/c"."""
    step_id: Optional[str] = None
    iteration: Optional[int] = None
    status: str = StepStatus.RUNNING.value
    result: Any = Field(default=None, sa_type=JSON, nullable=True)
    error: Any = Field(default=None, sa_type=JSON, nullable=True)
    attempts: int = 0
    started_at: Optional[float] = None
    finished_at: Optional[float] = None
    data: Any = Field(default=None, sa_type=JSON, nullable=True)
    """Step bookkeeping such as sleep_until or suspend approvals."""


class LogEntry(SQLModel, table=True):
    """One log line of a run, append-only; `id` orders the lines."""

    __tablename__ = "logs"
    __table_args__ = (
        Index("ix_logs_run", "run_id", "id"),
        Index("ix_logs_run_step", "run_id", "step_key", "id"),
    )

    id: Optional[int] = Field(
        default=None,
        sa_column=Column(
            # SQLite only autoincrements an INTEGER PRIMARY KEY.
            BigInteger().with_variant(Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
    )
    run_id: str = Field(sa_column_args=[_run_fk()], sa_type=String(64))
    step_key: Optional[str] = None
    ts: float
    stream: str = "stdout"
    line: str = Field(sa_type=Text)


class FlowVersion(SQLModel, table=True):
    """One saved version of a flow document."""

    __tablename__ = "flow_versions"

    workspace: str = Field(default="main", primary_key=True)
    path: str = Field(primary_key=True)
    version: int = Field(primary_key=True)
    summary: str = ""
    document: Any = Field(default=None, sa_type=JSON, nullable=True)
    created_at: float
    created_by: Optional[str] = None


class ScriptVersion(SQLModel, table=True):
    """One saved version of a script."""

    __tablename__ = "script_versions"

    workspace: str = Field(default="main", primary_key=True)
    path: str = Field(primary_key=True)
    version: int = Field(primary_key=True)
    language: str
    content: str = Field(sa_type=Text)
    args_schema: Any = Field(default=None, sa_type=JSON, nullable=True)
    """JSON Schema of the script's arguments (named so to keep pydantic's `schema` free)."""
    summary: str = ""
    created_at: float
    lock: Optional[str] = Field(default=None, sa_type=Text, nullable=True)
    """The exact dependencies this version runs with (engine/deps/locks.py); None: it needs none."""
    dedicated_worker: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    """Its runs (and flow steps using it) call main in a warm worker of this version (engine/runners/dedicated.py)."""


class Worker(SQLModel, table=True):
    """A process that claims queued runs and heartbeats while it holds them."""

    __tablename__ = "workers"

    id: str = Field(primary_key=True)
    hostname: Optional[str] = None
    tags: Any = Field(default=None, sa_type=JSON, nullable=True)
    """The run tags it takes; None takes every tag."""
    started_at: float
    heartbeat_at: float
    status: str = "alive"
    """"alive", "stopped" (retired cleanly) or "lost" (heartbeat went stale)."""


class Schedule(SQLModel, table=True):
    """A cron schedule that runs a flow or a script; its path names it, as in Windmill."""

    __tablename__ = "schedules"

    workspace: str = Field(default="main", primary_key=True)
    path: str = Field(primary_key=True)
    schedule: str
    """The cron expression: 5 fields, or 6 with seconds first."""
    timezone: str = "UTC"
    """The IANA time zone the expression is read in."""
    script_path: str
    """The flow or script it runs."""
    is_flow: bool = True
    args: Any = Field(default=None, sa_type=JSON, nullable=True)
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


class Variable(SQLModel, table=True):
    """A named value scripts and flows read; a secret one is stored encrypted."""

    __tablename__ = "variables"

    workspace: str = Field(default="main", primary_key=True)
    path: str = Field(primary_key=True)
    value: str = Field(default="", sa_type=Text)
    """The value as given, or its Fernet token when `is_secret`."""
    is_secret: bool = False
    description: str = ""
    created_at: float
    updated_at: float


class Resource(SQLModel, table=True):
    """A typed JSON value (connection settings, state), checked against its type's schema."""

    __tablename__ = "resources"

    workspace: str = Field(default="main", primary_key=True)
    path: str = Field(primary_key=True)
    resource_type: str
    value: Any = Field(default=None, sa_type=JSON, nullable=True)
    description: str = ""
    created_at: float
    updated_at: float


class ResourceType(SQLModel, table=True):
    """A custom resource type: a name and the JSON Schema its resources' values follow."""

    __tablename__ = "resource_types"

    workspace: str = Field(default="main", primary_key=True)
    name: str = Field(primary_key=True)
    type_schema: Any = Field(default=None, sa_type=JSON, nullable=True)
    """JSON Schema (named so to keep pydantic's `schema` free)."""
    description: str = ""
    created_at: float


class FlowUserState(SQLModel, table=True):
    """One key of a run's user state (`wmill.set_flow_user_state`)."""

    __tablename__ = "flow_user_states"

    run_id: str = Field(sa_column_args=[_run_fk()], primary_key=True, sa_type=String(64))
    key: str = Field(primary_key=True)
    value: Any = Field(default=None, sa_type=JSON, nullable=True)


TABLES.extend([
    Variable.__table__,
    Resource.__table__,
    ResourceType.__table__,
    FlowUserState.__table__,
])
