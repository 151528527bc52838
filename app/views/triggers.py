"""What starts runs, as pages name it, and which runs count as real (not editor previews)."""

from __future__ import annotations

from typing import Any

PREVIEW = "preview"
"""The trigger of the editor's test runs ("Test this step", "Test up to here", "Test flow")."""
LABELS = {
    "ui": "manual",
    "api": "API",
    "webhook": "webhook",
    "schedule": "schedule",
    "schedule_failure": "schedule failure handler",
    "cli": "CLI",
    "rerun": "re-run",
    "restart": "restart",
    "subflow": "subflow",
    PREVIEW: "editor preview",
}
"""Trigger (as a run records it) -> its name on the pages, in the order filters list them."""
REAL = "real"
ALL = "all"
CHOICES = {REAL: "real runs (no previews)", ALL: "any trigger", **LABELS}
"""The runs list's trigger filter: its value -> its label."""


def label(trigger: str | None) -> str:
    """The trigger's name on the pages (the recorded value when it has none)."""
    return LABELS.get(trigger or "", trigger or "")


def run_filters(choice: str) -> dict[str, Any]:
    """The store's `list_runs`/`count_runs` filters for a choice of CHOICES."""
    if choice == ALL:
        return {}
    if choice in LABELS:
        return {"trigger": choice}
    return {"not_triggers": (PREVIEW,)}
