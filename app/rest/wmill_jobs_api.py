"""REST for jobs in Windmill's shapes (`app.rest.wmill_jobs` builds them): get, completed/get,
getupdate (live logs), get_logs, the job lists, and cancelling a queued or suspended run."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from app import settings
from app.rest import users
from app.rest import wmill_jobs
from app.services.engine_service import FINISHED, service
from app.rest.http_errors import answers
from app.services.offloop import off_loop
from app.rest.wmill_api import blocking_endpoint, object_body

MAX_PER_PAGE = 1000
QUIET_WAIT = 0.3
"""Seconds getupdate waits before answering that nothing changed."""
QUEUED = ("queued", "running", "suspended")


def _id(request: Request) -> str:
    return request.path_params["job_id"]


def _job(request: Request, with_logs: bool = False) -> dict[str, Any]:
    from engine import NotFound

    found = wmill_jobs.job(service.store, _id(request), with_logs=with_logs)
    if found is None:
        raise NotFound(f"job {_id(request)!r} not found")
    return found


@blocking_endpoint
def get(request: Request, raw: bytes) -> Response:
    return JSONResponse(_job(request))


@blocking_endpoint
def completed_get(request: Request, raw: bytes) -> Response:
    job = _job(request, with_logs=True)
    if job["type"] != "CompletedJob":
        return PlainTextResponse(f"job {_id(request)} has not completed (status: {job['status']})", 404)
    return JSONResponse(job)


@blocking_endpoint
def get_logs(request: Request, raw: bytes) -> Response:
    return PlainTextResponse(_job(request, with_logs=True)["logs"])


@answers
async def getupdate(request: Request) -> Response:
    """What changed since `log_offset` (characters of the log text already seen). The CLI
    asks again as soon as it is answered: when nothing changed, the answer waits a little
    (`QUIET_WAIT`, on the event loop, holding no thread) so a waiting CLI costs a few
    reads a second."""
    offset = _int(request, "log_offset", 0)
    update = await off_loop(_update, request, offset)
    if not update["new_logs"] and not update["completed"]:
        await asyncio.sleep(QUIET_WAIT)
        update = await off_loop(_update, request, offset)
    return JSONResponse(update)


def _update(request: Request, offset: int) -> dict[str, Any]:
    job = _job(request, with_logs=True)
    logs = job["logs"]
    return {"running": job["running"], "completed": job["type"] == "CompletedJob", "new_logs": logs[offset:],
            "log_offset": len(logs), "mem_peak": None, "flow_status": job.get("flow_status")}


def _int(request: Request, name: str, default: int) -> int:
    from engine import BadInput

    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadInput(f"{name} must be a whole number, not {raw[:40]!r}") from None
    if value < 0:
        raise BadInput(f"{name} must not be negative")
    return value


def _listed(request: Request, statuses: tuple[str, ...] | None) -> list[dict[str, Any]]:
    """Top-level runs, newest first, filtered as `jobs/list` is (path, success, running)."""
    params = request.query_params
    kinds = {kind for kind in (params.get("job_kinds") or "").split(",") if kind}
    if kinds and not kinds & {"flow", "script"}:
        return []  # dependency jobs and the like: Millrace runs none of them
    if params.get("success") in ("true", "false"):
        statuses = ("success",) if params["success"] == "true" else ("failure", "canceled")
    if params.get("running") == "true":
        statuses = ("running",)
    per_page = min(_int(request, "per_page", 30), MAX_PER_PAGE)
    page = max(_int(request, "page", 1), 1)
    runs = service.store.list_runs(path=params.get("script_path_exact") or None, status=statuses,
                                   workspace=settings.WORKSPACE, top_level=True, limit=per_page,
                                   offset=(page - 1) * per_page)
    return [wmill_jobs.run_job(service.store, run) for run in runs]


@blocking_endpoint
def jobs_list(request: Request, raw: bytes) -> Response:
    return JSONResponse(_listed(request, None))


@blocking_endpoint
def queue_list(request: Request, raw: bytes) -> Response:
    return JSONResponse(_listed(request, QUEUED))


@blocking_endpoint
def completed_list(request: Request, raw: bytes) -> Response:
    return JSONResponse(_listed(request, tuple(FINISHED)))


@blocking_endpoint
def cancel(request: Request, raw: bytes) -> Response:
    """Cancel a queued, running or suspended run (a running one with its parts and
    subflows, its scripts stopped)."""
    from engine import BadInput

    run_id, key = wmill_jobs.split(_id(request))
    job = _job(request)
    if key is not None or job["status"] in FINISHED:
        raise BadInput(f"job {_id(request)} is {job['status']}: only a queued, running or suspended run can be "
                       "canceled")
    who = users.caller(request)
    reason = str(object_body(raw).get("reason") or "") or None
    service.cancel(run_id, by=who.username or "run", reason=reason)
    return PlainTextResponse(f"job {run_id} canceled")


@blocking_endpoint
def batch_rerun(request: Request, raw: bytes) -> Response:
    """Run each of `job_ids` again with its args: one new id per line, or `Error: ...`."""
    from engine import BadInput, NotFound

    ids = object_body(raw).get("job_ids")
    if not isinstance(ids, list) or not all(isinstance(job_id, str) for job_id in ids):
        raise BadInput("job_ids must be a list of job ids")
    lines, who = [], users.caller(request)
    for job_id in ids:
        try:
            lines.append(service.rerun(wmill_jobs.split(job_id)[0], started_by=who))
        except (BadInput, NotFound) as exc:
            lines.append(f"Error: job {job_id}: {exc}")
    return PlainTextResponse("\n".join(lines) + "\n", 201)


@blocking_endpoint
def restart(request: Request, raw: bytes) -> Response:
    """Run a finished flow again from its top-level step `step_id` (the steps before it reused)."""
    from engine import BadInput

    step = object_body(raw).get("step_id")
    if not isinstance(step, str) or not step:
        raise BadInput("step_id must name a top-level step of the flow")
    _job(request)  # NotFound for another workspace's or no run
    return PlainTextResponse(service.restart(wmill_jobs.split(_id(request))[0], step, started_by=users.caller(request)),
                             201)


W = "/api/w/{workspace}"
routes = [
    Route(f"{W}/jobs_u/get/{{job_id:path}}", get),
    Route(f"{W}/jobs_u/completed/get/{{job_id:path}}", completed_get),
    Route(f"{W}/jobs/completed/get/{{job_id:path}}", completed_get),
    Route(f"{W}/jobs_u/get_logs/{{job_id:path}}", get_logs),
    Route(f"{W}/jobs_u/getupdate/{{job_id:path}}", getupdate),
    Route(f"{W}/jobs/list", jobs_list),
    Route(f"{W}/jobs/queue/list", queue_list),
    Route(f"{W}/jobs/completed/list", completed_list),
    Route(f"{W}/jobs_u/queue/cancel/{{job_id}}", cancel, methods=["POST"]),
    Route(f"{W}/jobs/queue/cancel/{{job_id}}", cancel, methods=["POST"]),
    Route(f"{W}/jobs/run/batch_rerun_jobs", batch_rerun, methods=["POST"]),
    Route(f"{W}/jobs/restart/f/{{job_id}}", restart, methods=["POST"]),
]
"""Mounted by `app.rest.api` beside its own routes."""
