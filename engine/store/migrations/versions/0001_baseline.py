"""The baseline: every table as the releases before migrations left them.

Those releases made their tables with `create_all` and kept no schema version. This
revision takes an empty database, or any database they made, to the same schema: it
creates the tables that are missing (a frozen copy of their definitions, so later model
changes do not change what it does) and adds what `create_all` never added to a table
that existed already: app_tokens.prefix and the queue index ix_runs_queue (which
replaced ix_runs_claim). Rows are never touched.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

meta = sa.MetaData()


def _text(name: str, *, nullable: bool = False, primary_key: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(), nullable=nullable, primary_key=primary_key)


def _number(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Float(), nullable=nullable)


def _json(name: str) -> sa.Column:
    return sa.Column(name, sa.JSON(), nullable=True)


def _run_id(*, primary_key: bool = False) -> sa.Column:
    return sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"),
                     nullable=False, primary_key=primary_key)


def _place(key: str = "path") -> list[sa.Column]:
    return [_text("workspace", primary_key=True), _text(key, primary_key=True)]


sa.Table(
    "runs", meta,
    sa.Column("id", sa.String(64), primary_key=True),
    _text("kind"), _text("path"), _text("workspace"), _json("args"), _json("flow"), _text("status"),
    _json("result"), _json("error"), _number("created_at"), _number("scheduled_for"),
    _number("started_at", nullable=True), _number("finished_at", nullable=True),
    _text("worker_id", nullable=True), _number("heartbeat_at", nullable=True), _text("tag", nullable=True),
    _text("parent_run_id", nullable=True), _text("root_run_id", nullable=True),
    _text("schedule_id", nullable=True), _text("trigger"), _json("state"),
    sa.Index("ix_runs_queue", "status", "scheduled_for", "created_at", "id"),
    sa.Index("ix_runs_created", "created_at"),
    sa.Index("ix_runs_path_created", "path", "created_at"),
    sa.Index("ix_runs_parent", "parent_run_id"),
    sa.Index("ix_runs_root", "root_run_id"),
    sa.Index("ix_runs_worker", "worker_id"),
)
sa.Table(
    "steps", meta,
    _run_id(primary_key=True), _text("key", primary_key=True), _text("step_id", nullable=True),
    sa.Column("iteration", sa.Integer(), nullable=True), _text("status"), _json("result"), _json("error"),
    sa.Column("attempts", sa.Integer(), nullable=False), _number("started_at", nullable=True),
    _number("finished_at", nullable=True), _json("data"),
)
sa.Table(
    "logs", meta,
    # SQLite only autoincrements an INTEGER PRIMARY KEY.
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    _run_id(), _text("step_key", nullable=True), _number("ts"), _text("stream"),
    sa.Column("line", sa.Text(), nullable=False),
    sa.Index("ix_logs_run", "run_id", "id"),
    sa.Index("ix_logs_run_step", "run_id", "step_key", "id"),
)
sa.Table(
    "flow_versions", meta,
    *_place(), sa.Column("version", sa.Integer(), primary_key=True), _text("summary"), _json("document"),
    _number("created_at"), _text("created_by", nullable=True),
)
sa.Table(
    "script_versions", meta,
    *_place(), sa.Column("version", sa.Integer(), primary_key=True), _text("language"),
    sa.Column("content", sa.Text(), nullable=False), _json("args_schema"), _text("summary"),
    _number("created_at"),
)
sa.Table(
    "workers", meta,
    _text("id", primary_key=True), _text("hostname", nullable=True), _json("tags"), _number("started_at"),
    _number("heartbeat_at"), _text("status"),
)
sa.Table(
    "schedules", meta,
    *_place(), _text("schedule"), _text("timezone"), _text("script_path"),
    sa.Column("is_flow", sa.Boolean(), nullable=False), _json("args"),
    sa.Column("enabled", sa.Boolean(), nullable=False), _text("catch_up"), _text("on_failure", nullable=True),
    _text("summary"), _number("created_at"), _number("edited_at"), _number("checked_until"),
    _number("failures_checked_until"),
)
sa.Table(
    "variables", meta,
    *_place(), sa.Column("value", sa.Text(), nullable=False), sa.Column("is_secret", sa.Boolean(), nullable=False),
    _text("description"), _number("created_at"), _number("updated_at"),
)
sa.Table(
    "resources", meta,
    *_place(), _text("resource_type"), _json("value"), _text("description"), _number("created_at"),
    _number("updated_at"),
)
sa.Table(
    "resource_types", meta,
    *_place("name"), _json("type_schema"), _text("description"), _number("created_at"),
)
sa.Table("flow_user_states", meta, _run_id(primary_key=True), _text("key", primary_key=True), _json("value"))
sa.Table(
    "app_tokens", meta,
    _text("token_hash", primary_key=True), _text("label"), _text("owner"),
    sa.Column("is_admin", sa.Boolean(), nullable=False), _number("created_at"), _text("prefix"),
)
sa.Table("app_settings", meta, _text("key", primary_key=True), _text("value"))
sa.Table(
    "app_users", meta,
    _text("username", primary_key=True), _text("role"), _text("password_hash"), _text("salt"),
    _number("created_at"),
)
sa.Table(
    "app_audit", meta,
    sa.Column("id", sa.Integer(), primary_key=True), _number("at"), _text("actor"), _text("action"),
    _text("target"), _text("detail"),
    sa.Index("ix_app_audit_at", "at"),
)
sa.Table(
    "app_approval_requests", meta,
    sa.Column("id", sa.Integer(), primary_key=True), _text("run_id"), _text("resume_id"), _text("approver"),
    _text("asked_by"), _number("at"),
    sa.Index("ix_app_approval_requests_run_id", "run_id"),
)
sa.Table(
    "app_webhook_deliveries", meta,
    _text("path", primary_key=True), _text("delivery", primary_key=True), _number("at"),
    sa.Index("ix_app_webhook_deliveries_at", "at"),
)
sa.Table(
    "app_sessions", meta,
    _text("secret_hash", primary_key=True), _text("username"), _number("created_at"), _number("expires_at"),
    sa.Index("ix_app_sessions_username", "username"),
)
sa.Table("app_login_failures", meta, _text("key", primary_key=True),
         sa.Column("failures", sa.Integer(), nullable=False), _number("last_at"))


def upgrade() -> None:
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    meta.create_all(bind, tables=[table for table in meta.sorted_tables if table.name not in existing])
    if "app_tokens" in existing:
        _add_token_prefix(bind)
    if "runs" in existing:
        _add_queue_index(bind)


def _add_token_prefix(bind: sa.Connection) -> None:
    # Releases before the prefix added it by hand; the earliest have no such column.
    if "prefix" not in {column["name"] for column in sa.inspect(bind).get_columns("app_tokens")}:
        op.add_column("app_tokens", sa.Column("prefix", sa.String(), nullable=False, server_default=""))


def _add_queue_index(bind: sa.Connection) -> None:
    names = {index["name"] for index in sa.inspect(bind).get_indexes("runs")}
    if "ix_runs_queue" not in names:
        op.create_index("ix_runs_queue", "runs", ["status", "scheduled_for", "created_at", "id"])
    if "ix_runs_claim" in names:
        op.drop_index("ix_runs_claim", table_name="runs")
