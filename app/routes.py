"""Every route of the web app, spelled once; pages, links and endpoints import them from here.

Imports nothing from the app: every part of it may import this."""

from __future__ import annotations

from typing import Any

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

LOGIN_PATH = "/api/session/login"
LOGOUT_PATH = "/api/session/logout"
"""Where the login page and the logout button post (plain forms: `app.rest.session_api`)."""
WRONG, THROTTLED = "wrong", "throttled"
"""Reasons the login page is sent back to (`?failed=`)."""


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


def safe_next(target: str) -> str:
    """`target` when it is a path of this app, else the home page (no open redirect)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and not target.startswith("/api/"):
        return target
    return HOME
