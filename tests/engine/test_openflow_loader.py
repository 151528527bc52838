"""Loading flow files: syntax by extension, file and line in errors, bare values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import FlowLoadError, FlowValidationError
from engine.openflow import FlowDocument, dump_flow, load_flow, parse_flow

BARE = {"modules": [{"id": "a", "value": {"type": "identity"}}]}
YAML_DOC = """\
summary: Hello
value:
  modules:
    - id: a
      value:
        type: identity
"""


def test_loads_a_json_file(tmp_path: Path):
    path = tmp_path / "flow.json"
    path.write_text(json.dumps({"summary": "s", "value": BARE}))
    doc = load_flow(path)
    assert isinstance(doc, FlowDocument)
    assert doc.summary == "s" and doc.value.modules[0].id == "a"


@pytest.mark.parametrize("name", ["flow.yaml", "flow.yml", "FLOW.YAML"])
def test_loads_a_yaml_file_by_extension(tmp_path: Path, name: str):
    path = tmp_path / name
    path.write_text(YAML_DOC)
    assert load_flow(str(path)).summary == "Hello"


@pytest.mark.parametrize("text", [json.dumps(BARE), YAML_DOC])
def test_unknown_extension_tries_json_then_yaml(tmp_path: Path, text: str):
    path = tmp_path / "flow.txt"
    path.write_text(text)
    assert load_flow(path).value.modules[0].id == "a"


def test_bare_flow_value_loads_as_a_document():
    doc = parse_flow(json.dumps(BARE))
    assert doc.summary is None
    assert dump_flow(doc) == {"value": BARE}


def test_invalid_json_names_file_and_line(tmp_path: Path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "summary": "x",\n  "value": {,}\n}\n')
    with pytest.raises(FlowLoadError) as caught:
        load_flow(path)
    assert caught.value.file == str(path) and caught.value.line == 3
    assert str(caught.value).startswith(f"{path}:3: invalid JSON")


def test_invalid_yaml_names_file_and_line(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("summary: x\nvalue:\n  modules: [a, b\n  other: 1\n")
    with pytest.raises(FlowLoadError) as caught:
        load_flow(path)
    assert caught.value.file == str(path) and caught.value.line == 4
    assert "invalid YAML" in str(caught.value)


def test_yaml_tab_indentation_is_reported_with_its_line():
    with pytest.raises(FlowLoadError) as caught:
        parse_flow("summary: x\nvalue:\n\tmodules: []\n", source="f.yaml")
    assert caught.value.line == 3


def test_unknown_extension_reports_the_json_error_for_json_looking_text(tmp_path: Path):
    path = tmp_path / "flow"
    path.write_text('{"value": {"modules": [}\n')
    with pytest.raises(FlowLoadError, match="invalid JSON") as caught:
        load_flow(path)
    assert caught.value.line == 1


def test_missing_file_is_a_load_error(tmp_path: Path):
    with pytest.raises(FlowLoadError, match="cannot read the file") as caught:
        load_flow(tmp_path / "absent.yaml")
    assert caught.value.file.endswith("absent.yaml")


def test_non_utf8_file_is_a_load_error(tmp_path: Path):
    path = tmp_path / "latin.json"
    path.write_bytes(b'{"summary": "caf\xe9"}')
    with pytest.raises(FlowLoadError, match="cannot read the file"):
        load_flow(path)


def test_empty_document_is_a_load_error():
    with pytest.raises(FlowLoadError, match="the document is empty"):
        parse_flow("", source="empty.yaml")


def test_top_level_list_is_refused_with_the_source():
    with pytest.raises(FlowValidationError, match="must be an object, got list") as caught:
        parse_flow("[1, 2]", source="list.json")
    assert caught.value.source == "list.json"


def test_document_without_value_or_modules_needs_a_value():
    with pytest.raises(FlowValidationError) as caught:
        parse_flow('{"summary": "x"}')
    assert [str(issue) for issue in caught.value.issues] == ["value: field required"]


def test_yaml_dates_and_yes_no_stay_strings():
    text = YAML_DOC + "schema:\n  when: 2024-05-01\n  answer: yes\n  flag: true\n"
    doc = parse_flow(text, source="f.yaml")
    assert doc.schema_ == {"when": "2024-05-01", "answer": "yes", "flag": True}


def test_syntax_argument_overrides_the_source_extension():
    doc = parse_flow(YAML_DOC, source="flow.json", syntax="yaml")
    assert doc.summary == "Hello"
