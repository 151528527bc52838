"""State of the page that runs a flow from a form generated from its schema."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.services import catalog
from app import routes
from app.services.engine_service import service
from app.services.offloop import off_loop
from app.views.resource_choices import resource_choices
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
    async def load(self) -> None:
        """Open the flow named by the URL (/flows/run/<path>) and build its form."""
        from engine import NotFound

        url_path = self.router.url.path.rstrip("/")
        self.path = url_path.split(routes.FLOW_RUN_PREFIX, 1)[-1] if routes.FLOW_RUN_PREFIX in url_path else ""
        try:
            document = await off_loop(catalog.load_document, service.store, self.path)
        except NotFound:
            self.found = False
            return
        self.found = True
        self.summary = str(document.get("summary") or "")
        self.description = str(document.get("description") or "")
        self.show_schema(document.get("schema"), await off_loop(resource_choices, document.get("schema")))

    @rx.event
    async def submit(self, form_data: dict[str, Any]):
        """Queue a run with the form's args and open its page."""
        from engine import BadInput, NotFound

        args = self.check_form(form_data)
        if args is None:
            return None
        try:
            run_id = await off_loop(_start, self.path, args)
        except (BadInput, NotFound) as exc:
            self.form_errors = {"": str(exc)}
            return None
        return rx.redirect(routes.run_url(run_id))


def _start(path: str, args: dict[str, Any]) -> str:
    """Queue a run of the flow at `path` for the caller (audited); its id."""
    document = catalog.load_document(service.store, path)
    run_id = service.submit_flow(document, args, path=path, started_by=caller())
    record("run.started", path, run_id)
    return run_id
