"""Every page of the app: its route, what renders it and what loads its data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from app import routes
from app.pages import (approvals, audit, editor, flow_run, flows, home, login, resource_types, resources, run, runs,
                       schedules, script_editor, scripts, tokens, variables)
from app.states.approvals import ApprovalsState
from app.states.audit import AuditState
from app.states.editor import EditorState
from app.states.flow_run import FlowRunState
from app.states.flows import FlowsState
from app.states.home import HomeState
from app.states.resource_types import ResourceTypesState
from app.states.resources import ResourcesState
from app.states.run import RunState
from app.states.runs import RunsState
from app.states.schedules import SchedulesState
from app.states.script_editor import ScriptEditorState
from app.states.scripts import ScriptsState
from app.states.tokens import TokensState
from app.states.variables import VariablesState


@dataclass(frozen=True)
class Page:
    """One page of the app: where it lives, what renders it, what loads its data."""

    route: str
    component: Callable[[], Any]
    title: str
    on_load: Any = None


PAGES = (
    # Dynamic routes after static ones.
    Page(routes.HOME, home.page, "Millrace", HomeState.load),
    Page(routes.FLOWS, flows.page, "Flows · Millrace", FlowsState.load),
    Page(routes.FLOW_EDITOR, editor.page, "Flow editor · Millrace", EditorState.load),
    Page(routes.RUNS, runs.page, "Runs · Millrace", RunsState.load),
    Page(routes.RUN, run.page, "Run · Millrace", RunState.load),
    Page(routes.SCRIPTS, scripts.page, "Scripts · Millrace", ScriptsState.load),
    Page(routes.APPROVALS, approvals.page, "Approvals · Millrace", ApprovalsState.load),
    Page(routes.SCRIPT_EDITOR, script_editor.page, "Script · Millrace", ScriptEditorState.load),
    Page(routes.FLOW_RUN, flow_run.page, "Run a flow · Millrace", FlowRunState.load),
    Page(routes.SCHEDULES, schedules.page, "Schedules · Millrace", SchedulesState.load),
    Page(routes.RESOURCES, resources.page, "Resources · Millrace", ResourcesState.load),
    Page(routes.RESOURCE_TYPES, resource_types.page, "Resource types · Millrace", ResourceTypesState.load),
    Page(routes.VARIABLES, variables.page, "Variables · Millrace", VariablesState.load),
    Page(routes.LOGIN, login.page, "Log in · Millrace"),
    Page(routes.TOKENS, tokens.page, "API tokens · Millrace", TokensState.load),
    Page(routes.AUDIT, audit.page, "Audit log · Millrace", AuditState.load),
)
