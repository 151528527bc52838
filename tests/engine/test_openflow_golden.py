"""Golden flow documents: they load, round-trip exactly, and cover every step type and option."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
from pydantic import BaseModel

from engine.openflow import (
    MODULE_TYPES,
    FlowDocument,
    RawScript,
    dump_flow,
    dump_value,
    iter_modules,
    iter_rawscripts,
    load_flow,
    validate_args,
    validate_flow,
)
from engine.openflow.loader import _parse_yaml

FLOWS = Path(__file__).parents[1] / "fixtures" / "flows"
GOLDEN = sorted(FLOWS.glob("*.json")) + sorted(FLOWS.glob("*.yaml"))


def _raw(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else _parse_yaml(text, str(path))


def _models(node: Any) -> Iterator[BaseModel]:
    """Every model instance inside a document, depth first."""
    if isinstance(node, BaseModel):
        yield node
        for name in node.model_fields_set:
            yield from _models(getattr(node, name, None))
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _models(item)
    elif isinstance(node, dict):
        for item in node.values():
            yield from _models(item)


@pytest.fixture(scope="module")
def docs() -> dict[str, FlowDocument]:
    return {path.name: load_flow(path) for path in GOLDEN}


def test_there_are_golden_documents_in_both_syntaxes():
    names = {path.name for path in GOLDEN}
    assert {"all_modules.yaml", "loops.json", "branches.yaml", "retry_failure.yaml",
            "suspend.yaml", "unknown_fields.json", "bare_value.json"} <= names


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_golden_document_round_trips_exactly(path: Path, docs):
    raw = _raw(path)
    expected = raw if "value" in raw else {"value": raw}
    # Compare as JSON text so that key order matters too.
    assert json.dumps(dump_flow(docs[path.name])) == json.dumps(expected)


def test_bare_value_dumps_back_as_the_bare_value(docs):
    raw = _raw(FLOWS / "bare_value.json")
    assert json.dumps(dump_value(docs["bare_value.json"])) == json.dumps(raw)
    assert dump_flow(docs["bare_value.json"]) == {"value": raw}


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_golden_document_passes_semantic_validation(path: Path, docs):
    validate_flow(docs[path.name])


def test_unknown_fields_survive_at_every_level(docs):
    doc = docs["unknown_fields.json"]
    with_extras = {type(model).__name__ for model in _models(doc) if model.model_extra}
    assert with_extras >= {
        "FlowDocument", "FlowValue", "FlowModule", "RawScript", "PathScript", "PathFlow",
        "ForloopFlow", "WhileloopFlow", "BranchOne", "BranchOneBranch", "BranchAll",
        "BranchAllBranch", "Identity", "StaticTransform", "JavascriptTransform", "Retry",
        "ConstantRetry", "ExponentialRetry", "RetryIf", "StopAfterIf", "SkipIf", "Suspend",
        "ResumeForm", "Mock",
    }
    assert doc.model_extra["x_exported_by"] == "wmill 1.400.0"
    assert doc.value.model_extra["notes"][0]["text"] == "Kept as is"


def test_golden_documents_use_every_module_type(docs):
    used = {module.value.type for doc in docs.values() for _, module in iter_modules(doc)}
    assert used == set(MODULE_TYPES)


def test_golden_documents_set_every_modelled_field(docs):
    unset: dict[str, set[str]] = {}
    seen: dict[str, set[str]] = {}
    for doc in docs.values():
        for model in _models(doc):
            name = type(model).__name__
            unset.setdefault(name, set(type(model).model_fields))
            seen.setdefault(name, set()).update(model.model_fields_set)
    missing = {name: sorted(fields - seen[name]) for name, fields in unset.items()}
    missing = {name: fields for name, fields in missing.items() if fields}
    assert missing == {}


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_golden_python_scripts_compile_and_define_main(path: Path, docs):
    for where, script in iter_rawscripts(docs[path.name]):
        if script.language == "python3":
            code = compile(script.content, f"{path.name}:{where}", "exec")
            assert "main" in code.co_names, where


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_golden_bash_scripts_parse(docs):
    scripts = [s for doc in docs.values() for _, s in iter_rawscripts(doc) if s.language == "bash"]
    assert len(scripts) >= 5
    for script in scripts:
        subprocess.run(["bash", "-n"], input=script.content, text=True, check=True)


def test_golden_scripts_are_python3_or_bash(docs):
    languages = {s.language for doc in docs.values() for _, s in iter_rawscripts(doc)}
    assert languages == {"python3", "bash"}
    assert all(isinstance(s, RawScript) for doc in docs.values() for _, s in iter_rawscripts(doc))


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_golden_schemas_accept_their_defaults(path: Path, docs):
    doc = docs[path.name]
    given = {"counter_file": "/tmp/count"} if path.name == "retry_failure.yaml" else {}
    filled = validate_args(doc.schema_, given)
    assert set(filled) >= set(given)
