"""REST for a run's approval trail: `jobs_u/approvals/{run_id}`, every decision (who, when,
approved, payload, comment), oldest first."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from app.services.approvals import decisions
from app.services.engine_service import service
from app.services.offloop import off_loop
from engine import RunJournal


async def audit_endpoint(request: Request) -> Response:
    """GET the run's approval decisions, oldest first."""
    return await off_loop(_audit, request.path_params["run_id"])


def _audit(run_id: str) -> Any:
    run = service.store.get_run(run_id)
    if run is None:
        return PlainTextResponse(f"run {run_id!r} not found", 404)
    return JSONResponse(decisions(RunJournal(service.store, run).approval_steps()))
