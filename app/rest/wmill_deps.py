"""Locks on request, as `wmill generate-metadata` and `wmill sync push` ask Windmill for
them: `jobs/run/dependencies_async` (one script) and `jobs/run/flow_dependencies_async`
(a flow's script steps) answer a job id at once; the job's result (`{"lock": ...}` or
`{"updated_flow_value": ...}`) is then read with `jobs_u/completed/get_result_maybe`.

Millrace resolves the lock while answering (`engine.lock_script`, `engine.lock_flow`), so
these jobs are finished when named. They are kept in this process only (the last
`KEPT` of them): the CLI reads each one right after asking.
"""

from __future__ import annotations

import collections
import threading
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from app.services import catalog
from app.services.engine_service import service
from app.rest.wmill_api import blocking_endpoint, object_body

KEPT = 500
_jobs: collections.OrderedDict[str, dict[str, Any]] = collections.OrderedDict()
_lock = threading.Lock()


def finished(job_id: str) -> dict[str, Any] | None:
    """A dependency job as get_result_maybe shows it, None when this process made none such."""
    with _lock:
        return _jobs.get(job_id)


def _keep(success: bool, result: Any) -> str:
    job_id = f"deps-{uuid.uuid4().hex}"
    with _lock:
        _jobs[job_id] = {"completed": True, "success": success, "result": result, "started": True}
        while len(_jobs) > KEPT:
            _jobs.popitem(last=False)
    return job_id


def _resolved(make: Any) -> str:
    """The id of a finished job holding `make()`'s result, or the error it raised."""
    from engine import BadInput

    try:
        return _keep(True, make())
    except (BadInput, catalog.CatalogError) as exc:
        return _keep(False, {"error": {"name": type(exc).__name__, "message": str(exc)}})


def _script_lock(script: dict[str, Any]) -> dict[str, str]:
    from engine import lock_script

    language, content = str(script.get("language") or ""), str(script.get("raw_code") or "")
    if language not in catalog.LANGUAGES:
        return {"lock": ""}  # a language Millrace keeps no lock for
    made = lock_script(language, content, path=script.get("script_path"), fetch=catalog.python_source(service.store))
    return {"lock": made or ""}


@blocking_endpoint
def dependencies_async(request: Request, raw: bytes) -> Response:
    from engine import BadInput

    scripts = object_body(raw).get("raw_scripts")
    if not isinstance(scripts, list) or len(scripts) != 1 or not isinstance(scripts[0], dict):
        raise BadInput("raw_scripts must be a list of one script: {raw_code, language, script_path}")
    return PlainTextResponse(_resolved(lambda: _script_lock(scripts[0])), 201)


@blocking_endpoint
def flow_dependencies_async(request: Request, raw: bytes) -> Response:
    from engine import BadInput, lock_flow

    value = object_body(raw).get("flow_value")
    if not isinstance(value, dict):
        raise BadInput("flow_value must be the flow's value: an object with its modules")
    fetch = catalog.python_source(service.store)
    return PlainTextResponse(_resolved(lambda: {"updated_flow_value": lock_flow(value, fetch=fetch)}), 201)


W = "/api/w/{workspace}"
routes = [
    Route(f"{W}/jobs/run/dependencies_async", dependencies_async, methods=["POST"]),
    Route(f"{W}/jobs/run/flow_dependencies_async", flow_dependencies_async, methods=["POST"]),
]
"""Mounted by `app.rest.api` beside its own routes."""
