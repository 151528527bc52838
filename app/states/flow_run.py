"""State of the page that runs a flow from a form generated from its schema."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import catalog, routes
from app.engine_service import service
from app.resource_choices import resource_choices
from app.states.guard import caller
from app.states.session import record
from components.schema_form import SchemaFormState


class FlowRunState(SchemaFormState, rx.State):
    """The flow named by the URL and the form of its args."""

    path: str = ""
    found: bool = True
    summary: str = ""
    description: str = ""

    @rx.event
    def load(self) -> None:
        """Open the flow named by the URL (/flows/run/<path>) and build its form."""
        from engine import NotFound

        url_path = self.router.url.path.rstrip("/")
        self.path = url_path.split(routes.FLOW_RUN_PREFIX, 1)[-1] if routes.FLOW_RUN_PREFIX in url_path else ""
        try:
            document = catalog.load_document(service.store, self.path)
        except NotFound:
            self.found = False
            return
        self.found = True
        self.summary = str(document.get("summary") or "")
        self.description = str(document.get("description") or "")
        self.show_schema(document.get("schema"), resource_choices(document.get("schema")))

    @rx.event
    def submit(self, form_data: dict[str, Any]):
        """Queue a run with the form's args and open its page."""
        from engine import BadInput, NotFound

        args = self.check_form(form_data)
        if args is None:
            return None
        try:
            document = catalog.load_document(service.store, self.path)
            run_id = service.submit_flow(document, args, path=self.path, started_by=caller())
        except (BadInput, NotFound) as exc:
            self.form_errors = {"": str(exc)}
            return None
        record("run.started", self.path, run_id)
        return rx.redirect(routes.run_url(run_id))
