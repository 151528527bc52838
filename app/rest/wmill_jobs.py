"""Runs as Windmill's jobs: the shapes `wmill flow run`, `script run` and `job ...` read.

A run is a job; a flow step is a job too, named `<run id>:<step key>` (the WM_JOB_ID its
script sees), so the CLI can follow each step's logs. Times are ISO 8601 (UTC).
Everything is read through `service.store`, which masks secrets in results and logs.
"""

from __future__ import annotations

from typing import Any

from app import settings
from app.services.engine_service import FINISHED
from app.rest.timestamps import iso

MODULE_STATES = {"success": "Success", "failure": "Failure", "running": "InProgress", "waiting": "WaitingForEvents",
                 "skipped": "Success"}
"""A journal entry's status as a flow module's state in Windmill's flow_status."""
LOG_LINES = 20_000
"""At most this many lines make a job's log text."""


def split(job_id: str) -> tuple[str, str | None]:
    """(run id, step key or None) of a job id."""
    run_id, _, key = job_id.partition(":")
    return run_id, key or None


def duration_ms(started: float | None, finished: float | None) -> int | None:
    return None if started is None or finished is None else int((finished - started) * 1000)


def log_text(store: Any, run_id: str, step_key: str | None = None) -> str:
    """A run's (or one step's) log lines as one text, as Windmill serves a job's logs."""
    lines = store.get_logs(run_id, step_key=step_key, limit=LOG_LINES)
    return "".join(f"{line.line}\n" for line in lines)


def run_job(store: Any, run: Any, *, with_logs: bool = False) -> dict[str, Any]:
    """A run as Windmill's Job (QueuedJob while it is not finished, else CompletedJob)."""
    done = run.status in FINISHED
    job = {"id": run.id, "workspace_id": run.workspace, "type": "CompletedJob" if done else "QueuedJob",
           "status": run.status, "running": run.status == "running", "success": run.status == "success",
           "canceled": run.status == "canceled", "created_at": iso(run.created_at), "started_at": iso(run.started_at),
           "finished_at": iso(run.finished_at), "duration_ms": duration_ms(run.started_at, run.finished_at),
           "script_path": run.path, "job_kind": "flow" if run.kind == "flow" else "script", "args": run.args,
           "result": run.result if done else None, "created_by": "admin", "permissioned_as": "u/admin",
           "email": "admin@localhost", "visible_to_owner": True, "is_flow_step": run.parent_run_id is not None,
           "parent_job": run.parent_run_id, "tag": run.tag or "default", "trigger": run.trigger, "deleted": False,
           "is_skipped": False, "mem_peak": None}
    if run.kind == "flow":
        job["raw_flow"] = run.flow
        job["flow_status"] = flow_status(store, run)
    if with_logs:
        job["logs"] = log_text(store, run.id)
    return job


def flow_status(store: Any, run: Any) -> dict[str, Any]:
    """Where each top-level module of a flow run is, as Windmill's FlowStatus."""
    steps = store.load_steps(run.id)
    modules, step = [], 0
    for index, module in enumerate((run.flow or {}).get("modules") or []):
        key = str(module.get("id", ""))
        record = steps.get(key)
        entry: dict[str, Any] = {"id": key, "type": "WaitingForPriorSteps"}
        if record is not None:
            entry.update(type=MODULE_STATES.get(record.status, "InProgress"), job=f"{run.id}:{key}",
                         skipped=record.status == "skipped")
            step = index
            if (module.get("value") or {}).get("type") in ("forloopflow", "whileloopflow"):
                entry["flow_jobs"] = [f"{run.id}:{key}/{n}" for n in iterations(steps, key)]
        modules.append(entry)
    return {"step": step, "modules": modules, "failure_module": {"type": "WaitingForPriorSteps", "id": "failure"}}


def iterations(steps: dict[str, Any], key: str) -> list[int]:
    """The iterations of loop `key` the journal has reached, in order."""
    found = {part.split("/", 1)[0] for part in (k[len(key) + 1:] for k in steps if k.startswith(f"{key}/"))}
    return sorted(int(n) for n in found if n.isdigit())


def iteration_job(store: Any, run: Any, key: str, *, with_logs: bool = False) -> dict[str, Any] | None:
    """One iteration of a loop (`<loop key>/<n>`) as a job: its steps' logs, the last one's
    result; finished once the loop has moved past it or ended. None: no such iteration."""
    loop, _, number = key.rpartition("/")
    steps = store.load_steps(run.id, prefix=f"{key}/")
    if not loop or not number.isdigit() or not steps:
        return None
    outer = store.load_step(run.id, loop)
    later = f"{loop}/{int(number) + 1}/" if outer is not None else None
    moved_on = outer is not None and (outer.status != "running" or bool(store.load_steps(run.id, prefix=later)))
    failed = any(record.status == "failure" for record in steps.values())
    last = list(steps.values())[-1]
    fields = _record_fields(run, key, "failure" if failed else last.status, last, moved_on or failed)
    if with_logs:
        fields["logs"] = "".join(f"{line.line}\n" for line in store.get_logs(run.id, limit=LOG_LINES)
                                 if (line.step_key or "").startswith(f"{key}/"))
    return fields


def step_job(store: Any, run: Any, key: str, *, with_logs: bool = False) -> dict[str, Any] | None:
    """One step of a flow run as a job of its own (or a loop's iteration); None when the
    journal has no such step."""
    record = store.load_step(run.id, key)
    if record is None:
        return iteration_job(store, run, key, with_logs=with_logs)
    job = _record_fields(run, key, record.status, record, record.status in ("success", "failure", "skipped"))
    if with_logs:
        job["logs"] = log_text(store, run.id, key)
    return job


def _record_fields(run: Any, key: str, status: str, record: Any, done: bool) -> dict[str, Any]:
    return {"id": f"{run.id}:{key}", "workspace_id": run.workspace, "type": "CompletedJob" if done else "QueuedJob",
           "status": status, "running": not done and status != "waiting", "success": status != "failure",
           "canceled": False, "created_at": iso(record.started_at), "started_at": iso(record.started_at),
           "duration_ms": duration_ms(record.started_at, record.finished_at), "script_path": f"{run.path}/{key}",
           "job_kind": "flowscript", "args": None, "result": _step_result(record) if done else None,
           "is_flow_step": True, "parent_job": run.id, "created_by": "admin", "permissioned_as": "u/admin",
           "email": "admin@localhost", "visible_to_owner": True, "deleted": False,
           "is_skipped": status == "skipped"}


def _step_result(record: Any) -> Any:
    return {"error": record.error} if record.status == "failure" and record.error is not None else record.result


def job(store: Any, job_id: str, *, with_logs: bool = False) -> dict[str, Any] | None:
    """The job `job_id` names (a run, or a step of one), None when there is none."""
    run_id, key = split(job_id)
    run = store.get_run(run_id)
    if run is None or run.workspace != settings.WORKSPACE:
        return None
    return run_job(store, run, with_logs=with_logs) if key is None else step_job(store, run, key, with_logs=with_logs)
