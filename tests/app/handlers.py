"""The app's web event handlers as tests reach them: found by walking the state tree,
sent with plausible arguments, against data planted through REST.

A handler added later is covered by every test that walks them, without editing it.
"""

from __future__ import annotations

import inspect
import typing
import uuid
from typing import Any, Iterator

import httpx

import app.app  # noqa: F401  (imports every state of the app, as the server does)
from app.states import guard
from reflex.state import State
from tests.app.apikit import W, flow_body, py_step, wait_status


def walk(cls: type) -> Iterator[type]:
    yield cls
    for sub in sorted(cls.get_substates(), key=lambda s: s.get_full_name()):
        yield from walk(sub)


HANDLERS = [(cls, name, handler) for cls in walk(State) for name, handler in sorted(cls.event_handlers.items())]
APP_HANDLERS = [(cls, name, h) for cls, name, h in HANDLERS
                if not guard.is_framework(cls) and not guard.is_open(h.fn)]
ADMIN_HANDLERS = [(cls, name, h) for cls, name, h in APP_HANDLERS if guard.admin_task(h.fn)]


def full_name(cls: type, name: str) -> str:
    return f"{cls.get_full_name()}.{name}"


class Planted:
    """What the module puts in the store through REST: marker strings and where they are."""

    def __init__(self, api: httpx.Client):
        tag = uuid.uuid4().hex[:10]
        self.markers = {kind: f"mk{kind}{tag}" for kind in ("flow", "script", "result", "variable",
                                                            "resource", "audit")}
        self.flow = f"f/tests/guarded_{tag}"
        code = f"def main():\n    return '{self.markers['result']}'\n"
        body = flow_body(self.flow, [py_step("a", code)])
        body["summary"] = self.markers["flow"]
        assert api.post(f"{W}/flows/create", json=body).status_code == 201
        self.run_id = api.post(f"{W}/jobs/run/f/{self.flow}", json={}).text
        assert wait_status(api, self.run_id, {"success", "failure"})["status"] == "success"
        self.script = f"f/tests/guarded_script_{tag}"
        content = f"def main():\n    return '{self.markers['script']}'\n"
        assert api.post(f"{W}/scripts/create", json={"path": self.script, "language": "python3",
                                                     "content": content}).status_code == 201
        self.variable = f"u/admin/guarded_{tag}"
        assert api.post(f"{W}/variables/create", json={"path": self.variable, "value": self.markers["variable"],
                                                       "is_secret": False}).status_code in (200, 201)
        assert api.post(f"{W}/resources/create", json={"path": f"u/admin/guarded_{tag}", "resource_type": "any",
                                                       "value": {"note": self.markers["resource"]}}
                        ).status_code in (200, 201)
        created = api.post("/api/users/tokens/create", json={"label": self.markers["audit"]})
        self.token_prefix = created.text[:10]

    def page_of(self, cls: type) -> str:
        """The page a state's events come from (the URL its load reads); a part of a page's
        state (a substate of it) comes from that page."""
        pages = {"EditorState": f"/flows/edit/{self.flow}", "FlowRunState": f"/flows/run/{self.flow}",
                 "RunState": f"/runs/{self.run_id}", "ScriptEditorState": f"/scripts/edit/{self.script}"}
        return next((pages[base.__name__] for base in cls.__mro__ if base.__name__ in pages), "/")

    def leaked(self, text: str) -> list[str]:
        return [marker for marker in self.markers.values() if marker in text]


def arguments(handler: Any, planted: Planted) -> dict[str, Any]:
    """Plausible arguments for `handler`, from its signature (names and annotations)."""
    hints = typing.get_type_hints(handler.fn)
    params = list(inspect.signature(handler.fn).parameters.values())[1:]
    return {p.name: value_for(p.name, hints.get(p.name, Any), planted) for p in params
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def value_for(name: str, hint: Any, planted: Planted) -> Any:
    origin = typing.get_origin(hint) or hint
    if origin is bool:
        return True
    if origin is int:
        return 0
    if origin is dict:
        return form_for(planted)
    if origin is list:
        return []
    return {"path": planted.flow, "run_id": planted.run_id, "mode": "flow", "prefix": planted.token_prefix,
            "step_id": "a", "key": "a", "index": "0", "version": "1", "side": "from", "view": "history",
            "fmt": "json", "target": planted.flow, "name": "x", "expr": "flow_input.x"}.get(name, "x")


def form_for(planted: Planted) -> dict[str, Any]:
    """A form that every form handler would accept: a new path, a label, a value, ..."""
    fresh = f"f/tests/anon_{uuid.uuid4().hex[:6]}"
    return {"path": fresh, "summary": "x", "text": "summary: x\nvalue:\n  modules: []\n", "label": "anon",
            "value": "v", "language": "python3", "name": f"anon_{uuid.uuid4().hex[:6]}", "schema": "{}",
            "description": "", "_resource_path": f"u/admin/anon_{uuid.uuid4().hex[:6]}", "kind": "rawscript",
            "container": "", "index": 0, "step_id": "a", "__comment": "", "is_secret": False}


def upload(url: str, token: str, handler_name: str, content: str) -> str:
    """Call an upload handler through Reflex's upload endpoint; the streamed answer."""
    response = httpx.post(f"{url}/_upload", headers={"reflex-client-token": token,
                                                     "reflex-event-handler": handler_name},
                          files={"files": ("flow.yaml", content.encode())}, timeout=30)
    return response.text


def takes_files(handler: Any) -> bool:
    return any("UploadFile" in str(hint) for hint in typing.get_type_hints(handler.fn).values())


def state_named(name: str) -> type:
    return next(cls for cls, _, _ in HANDLERS if cls.__name__ == name)
