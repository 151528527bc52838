"""Every route of the web app, spelled once; pages and links import them from here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

HOME = "/"
FLOWS = "/flows"
# Flow paths hold slashes (f/folder/name), so the editor takes the rest of the URL
# (Reflex allows only this catch-all name).
FLOW_EDITOR = "/flows/edit/[[...splat]]"
RUNS = "/runs"
RUN = "/runs/[run_id]"
SCRIPTS = "/scripts"
SCRIPT_EDITOR_PREFIX = "/scripts/edit/"
SCRIPT_EDITOR = SCRIPT_EDITOR_PREFIX + "[[...splat]]"
FLOW_RUN_PREFIX = "/flows/run/"
FLOW_RUN = FLOW_RUN_PREFIX + "[[...splat]]"
APPROVALS = "/approvals"
SCHEDULES = "/schedules"
RESOURCES = "/resources"
RESOURCE_TYPES = "/resource-types"
VARIABLES = "/variables"
LOGIN = "/login"
TOKENS = "/tokens"
AUDIT = "/audit"


def flow_editor_url(path: Any) -> Any:
    """The editor's URL of a flow path (a str or a string Var)."""
    return "/flows/edit/" + path


def script_editor_url(path: Any) -> Any:
    """The editor's URL of a script path (a str or a string Var)."""
    return SCRIPT_EDITOR_PREFIX + path


def flow_run_url(path: Any) -> Any:
    """The URL of the form that runs a flow (a str or a string Var)."""
    return FLOW_RUN_PREFIX + path


def run_url(run_id: Any) -> Any:
    """The URL of a run's page (a str or a string Var)."""
    return "/runs/" + run_id


@dataclass(frozen=True)
class Page:
    """One page of the app: where it lives, what renders it, what loads its data."""

    route: str
    component: Callable[[], Any]
    title: str
    on_load: Any = None


def pages() -> list[Page]:
    """Every page, dynamic routes after static ones (imported here, late, because
    pages import the route constants above)."""
    from app.pages import approvals, editor, flows, home, run, runs, scripts
    from app.states.editor import EditorState
    from app.states.flows import FlowsState
    from app.states.home import HomeState
    from app.states.run import RunState
    from app.states.runs import RunsState
    from app.states.scripts import ScriptsState

    return [
        Page(HOME, home.page, "Millrace", HomeState.load),
        Page(FLOWS, flows.page, "Flows · Millrace", FlowsState.load),
        Page(FLOW_EDITOR, editor.page, "Flow editor · Millrace", EditorState.load),
        Page(RUNS, runs.page, "Runs · Millrace", RunsState.load),
        Page(RUN, run.page, "Run · Millrace", RunState.load),
        Page(SCRIPTS, scripts.page, "Scripts · Millrace", ScriptsState.load),
        Page(APPROVALS, approvals.page, "Approvals · Millrace", _approvals_load()),
        *_more_pages(),
        *_resource_pages(),
        *_user_pages(),
    ]


def _more_pages() -> list[Page]:
    from app.pages import flow_run, script_editor
    from app.states.flow_run import FlowRunState
    from app.states.script_editor import ScriptEditorState

    return [
        Page(SCRIPT_EDITOR, script_editor.page, "Script · Millrace", ScriptEditorState.load),
        Page(FLOW_RUN, flow_run.page, "Run a flow · Millrace", FlowRunState.load),
        _schedules_page(),
    ]


def _schedules_page() -> Page:
    from app.pages import schedules
    from app.states.schedules import SchedulesState

    return Page(SCHEDULES, schedules.page, "Schedules · Millrace", SchedulesState.load)


def _approvals_load() -> Any:
    from app.states.approvals import ApprovalsState

    return ApprovalsState.load


def _resource_pages() -> list[Page]:
    from app.pages import resource_types, resources, variables
    from app.states.resource_types import ResourceTypesState
    from app.states.resources import ResourcesState
    from app.states.variables import VariablesState

    return [
        Page(RESOURCES, resources.page, "Resources · Millrace", ResourcesState.load),
        Page(RESOURCE_TYPES, resource_types.page, "Resource types · Millrace", ResourceTypesState.load),
        Page(VARIABLES, variables.page, "Variables · Millrace", VariablesState.load),
    ]


def _user_pages() -> list[Page]:
    from app.pages import audit, login, tokens
    from app.states.audit import AuditState
    from app.states.tokens import TokensState

    return [
        Page(LOGIN, login.page, "Log in · Millrace"),
        Page(TOKENS, tokens.page, "API tokens · Millrace", TokensState.load),
        Page(AUDIT, audit.page, "Audit log · Millrace", AuditState.load),
    ]
