"""The flow editor's history: undo and redo of every edit (a step, its code, inputs or
options, the input schema), and the flow's saved versions with a diff of two."""

from __future__ import annotations

import copy
import time
from typing import Any

import reflex as rx

from app import settings
from app.services.engine_service import service
from app.services.offloop import off_loop
from app.states.editor import EditorState
from app.views import versions

UNDO_DEPTH = 50
TYPING_SECONDS = 1.5
"""Edits of one field this close together are one step of the history (a word typed,
not a letter)."""


class EditorHistoryState(EditorState):
    """Undo/redo of the document being edited, and its saved versions."""

    undo_depth: int = 0
    redo_depth: int = 0
    history: list[dict[str, str]] = []
    diff_from: str = ""
    diff_to: str = ""
    diff: list[dict[str, str]] = []
    diff_summary: str = ""

    _undo: list[dict[str, Any]] = []  # documents before each edit, the latest last
    _redo: list[dict[str, Any]] = []  # documents undone, the latest last
    _typing: tuple[str, float] = ("", 0.0)  # the field being edited, when last

    # ---- undo and redo ------------------------------------------------------------------------

    @rx.event
    async def undo(self) -> None:
        """Go back one edit, whatever it changed (a step, its code, inputs or options, the
        input schema); Redo goes forward again."""
        if not self._undo:
            return
        self._redo = (self._redo + [self._document])[-UNDO_DEPTH:]
        await self._restore(self._undo.pop(), "Undone")

    @rx.event
    async def redo(self) -> None:
        if not self._redo:
            return
        self._undo = (self._undo + [self._document])[-UNDO_DEPTH:]
        await self._restore(self._redo.pop(), "Redone")

    async def _restore(self, document: dict[str, Any], notice: str) -> None:
        self._document, self._typing = document, ("", 0.0)
        self.undo_depth, self.redo_depth = len(self._undo), len(self._redo)
        self._touch()
        self.notice, self.warning = notice, ""
        await self._show(relayout=True)
        self._load_schema()
        panel = await self._panel()
        await panel._select(panel.selected)  # a step the document no longer has is let go

    def _push_undo(self) -> None:
        """Make the document as it is now a point Undo comes back to (a new edit follows)."""
        self._undo = (self._undo + [self._document])[-UNDO_DEPTH:]
        self._redo, self._typing = [], ("", 0.0)
        self.undo_depth, self.redo_depth = len(self._undo), 0

    def _typed(self, field: str) -> None:
        """An edit of `field` comes: a new point of the history, unless the same field was
        edited a moment ago (typing a word is one edit)."""
        now = time.monotonic()
        last, at = self._typing
        if field != last or now - at > TYPING_SECONDS:
            self._push_undo()
        self._typing = (field, now)

    def _forget(self) -> None:
        """Another flow is opened: no edit to undo or redo."""
        self._undo, self._redo, self.undo_depth, self.redo_depth, self._typing = [], [], 0, 0, ("", 0.0)

    # ---- saved versions -----------------------------------------------------------------------

    @rx.event
    async def pick_diff(self, side: str, version: str) -> None:
        """Compare from (`side="from"`) or to (`side="to"`) another saved version."""
        if side == "from":
            self.diff_from = version
        else:
            self.diff_to = version
        await self._diff()

    @rx.event
    async def restore_version(self, version: str) -> None:
        """Put a saved version in the editor (an undoable edit; saving makes it the latest)."""
        row = await off_loop(service.store.get_flow, self.path, int(version), workspace=settings.WORKSPACE)
        if row is None:
            return
        await self._replace_document(copy.deepcopy(dict(row.document or {})))
        self.view, self.notice = "graph", f"Loaded version {version}: save to make it the latest"

    async def _load_versions(self) -> None:
        """The saved versions, comparing the latest two."""
        rows = await off_loop(service.store.list_flow_versions, self.path, workspace=settings.WORKSPACE) \
            if self.path else []
        self.history = versions.version_rows(rows)
        numbers = [row["version"] for row in self.history]
        self.diff_to = numbers[0] if numbers else ""
        self.diff_from = numbers[1] if len(numbers) > 1 else self.diff_to
        await self._diff()

    async def _diff(self) -> None:
        documents = await off_loop(_documents, self.path, [self.diff_from, self.diff_to])
        if None in documents:
            self.diff, self.diff_summary = [], ""
            return
        old, new = documents
        self.diff = versions.diff_rows(old, new)
        self.diff_summary = versions.diff_summary(self.diff)


def _documents(path: str, numbers: list[str]) -> list[Any]:
    """The documents of these versions of the flow (None for a missing one)."""
    rows = [service.store.get_flow(path, int(v), workspace=settings.WORKSPACE) if v else None for v in numbers]
    return [row.document if row is not None else None for row in rows]
