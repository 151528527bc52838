"""SQL runner: `postgresql` and `duckdb` steps run in a sandboxed job like any script.

The engine only reads the step's text (signature_sql.py) and makes a plan: the
parameters with their values, the database, the resources the text attaches. A child
of the zygote runs the plan (inside/sqljob.py): the database drivers, the connection and
every statement live in the sandbox, never in the engine. Results come back as JSON,
as a Python step's do.
"""

from __future__ import annotations

from typing import Any

from engine.errors import BadInput, quote
from engine.runners.job import LogCallback, ScriptJob, ScriptOutcome, default_timeout, failure, memory_limit_mb
from engine.runners.python import outcome_of
from engine.runners.signature_sql import DATABASE_ARG, SqlSignature, sql_signature, value_kind
from engine.runners.zygote import Launch, ZygoteJobs


class SqlRunner:
    """Runs "postgresql" and "duckdb" jobs in children of the pool's zygote."""

    def __init__(self, jobs: ZygoteJobs, max_result_bytes: int):
        self._jobs = jobs
        self._max_result_bytes = max_result_bytes

    async def run(self, job: ScriptJob, on_log: LogCallback | None, env: dict[str, str]) -> ScriptOutcome:
        """Run every statement of the step; the outcome holds their rows or the error."""
        try:
            plan = sql_plan(job)
        except BadInput as exc:
            return failure(type(exc).__name__, str(exc))
        memory = memory_limit_mb(job)
        payload = {"sql": plan, "env": env, "cwd": job.cwd, "memory_mb": memory,
                   "max_result_bytes": self._max_result_bytes}
        launch = Launch(payload, job.timeout or default_timeout(), memory, self._max_result_bytes, ends_with_frame=True)
        return outcome_of(await self._jobs.run(launch, on_log), job, self._max_result_bytes)


def sql_plan(job: ScriptJob) -> dict[str, Any]:
    """What the job process needs to run the step: its text, its parameters with their
    values (the defaults filled in, NULL for the rest), its database and attached resources.

    Raises:
        ScriptLoadError: the text cannot be read (see sql_signature).
        BadInput: a PostgreSQL step without a usable `database`, or a resource it names
            that was not resolved.
    """
    signature = sql_signature(job.language, job.content)
    for path in signature.resources():
        if path not in job.resources:
            raise BadInput(f"{job.language} step names resource {path}, whose value was not given to it")
        if not isinstance(job.resources[path], dict):
            raise BadInput(f"{job.language} step names resource {path}, which is not a postgresql resource "
                           "(an object with host and dbname)")
    values = {param.key: job.args.get(param.name, param.default) for param in signature.params}
    params = [{"key": p.key, "name": p.name, "type": p.type, "kind": value_kind(p.type)} for p in signature.params]
    return {"dialect": job.language, "content": job.content, "params": params, "values": values,
            "database": _database(job, signature), "collection": signature.collection,
            "attach": {path: job.resources[path] for path in signature.attached}}


def _database(job: ScriptJob, signature: SqlSignature) -> dict[str, Any] | None:
    """The postgresql resource a PostgreSQL step runs on (None for DuckDB)."""
    if job.language != "postgresql":
        return None
    if signature.database is not None:
        return job.resources[signature.database]
    database = job.args.get(DATABASE_ARG)
    if isinstance(database, dict) and database.get("host") and database.get("dbname"):
        return database
    if database is None:
        raise BadInput("postgresql step has no `database` argument: give it a postgresql resource "
                       '(pick one in the form, or pass "$res:<path>" as a static argument)')
    raise BadInput(f"postgresql step's `database` must be a postgresql resource (an object with host and "
                   f'dbname; pass "$res:<path>"), not {quote(database)}')
