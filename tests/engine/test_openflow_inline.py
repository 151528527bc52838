"""`!inline <file>` fields, as `wmill sync pull` writes flow.yaml: read from beside the flow."""

from __future__ import annotations

import os

import pytest

from engine.errors import FlowValidationError
from engine.openflow import flow_from_data, load_flow
from engine.openflow.inline import given_files

FLOW_YAML = """\
summary: synced
value:
  modules:
    - id: a
      value:
        type: rawscript
        language: bun
        content: '!inline a.inline_script.ts'
        lock: '!inline a.lock'
        input_transforms: {}
    - id: loop
      value:
        type: forloopflow
        iterator: {type: static, value: [1]}
        modules:
          - id: b
            value:
              type: rawscript
              language: python3
              content: '!inline steps/b.inline_script.py'
              input_transforms: {}
"""
A_TS = "export async function main() {\n  return 'a'\n}\n"
B_PY = "def main():\n    return 'b'\n"


def _folder(tmp_path, flow_text: str = FLOW_YAML):
    (tmp_path / "steps").mkdir()
    (tmp_path / "flow.yaml").write_text(flow_text)
    (tmp_path / "a.inline_script.ts").write_text(A_TS)
    (tmp_path / "a.lock").write_text("# lock\n")
    (tmp_path / "steps" / "b.inline_script.py").write_text(B_PY)
    return tmp_path / "flow.yaml"


def _issues(error: pytest.ExceptionInfo) -> list[str]:
    return [str(issue) for issue in error.value.issues]


def test_inline_files_beside_the_flow_are_read_into_content_and_lock(tmp_path):
    document = load_flow(_folder(tmp_path))
    a, loop = document.value.modules
    assert (a.value.content, a.value.lock) == (A_TS, "# lock\n")
    assert loop.value.modules[0].value.content == B_PY


def test_names_that_leave_the_flows_folder_are_refused_each_at_its_path(tmp_path):
    (tmp_path / "outside.ts").write_text(A_TS)
    folder = tmp_path / "flow"
    folder.mkdir()
    os.symlink(tmp_path / "outside.ts", folder / "link.ts")
    steps = "".join(f"    - id: s{i}\n      value: {{type: rawscript, language: bun, content: '!inline {name}'}}\n"
                    for i, name in enumerate(["../outside.ts", "/etc/hostname", "link.ts", "missing.ts"]))
    (folder / "flow.yaml").write_text(f"value:\n  modules:\n{steps}")
    with pytest.raises(FlowValidationError) as refused:
        load_flow(folder / "flow.yaml")
    assert _issues(refused) == [
        "value.modules[0].value.content: '!inline ../outside.ts' must name a file inside the flow's folder: "
        "`..` is not allowed",
        "value.modules[1].value.content: '!inline /etc/hostname' must name a file inside the flow's folder, "
        "not an absolute path",
        f"value.modules[2].value.content: '!inline link.ts' leads out of the flow's folder {folder} "
        "(through a symlink)",
        f"value.modules[3].value.content: '!inline missing.ts' names a file that is not there: "
        f"no missing.ts in {folder}",
    ]


def test_a_flow_that_came_without_its_files_is_refused_saying_how_to_bring_them():
    document = {"value": {"modules": [{"id": "a", "value": {"type": "rawscript", "language": "bun",
                                                            "content": "!inline a.ts"}}]}}
    with pytest.raises(FlowValidationError) as refused:
        flow_from_data(document, source="request body")
    [issue] = _issues(refused)
    assert issue.startswith("value.modules[0].value.content: '!inline a.ts' names a file, but the flow came "
                            "without its files: put the file's text in the field instead")
    assert refused.value.source == "request body"


def test_files_given_by_name_are_read_and_a_missing_one_is_named():
    document = {"value": {"modules": [
        {"id": "a", "value": {"type": "rawscript", "language": "bun", "content": "!inline a.ts"}},
        {"id": "b", "value": {"type": "rawscript", "language": "bun", "content": "!inline b.ts"}}]}}
    with pytest.raises(FlowValidationError) as refused:
        flow_from_data(document, files=given_files({"a.ts": A_TS}))
    assert _issues(refused) == ["value.modules[1].value.content: '!inline b.ts' names a file that was not given "
                                "with the flow: no b.ts among a.ts"]
    document["value"]["modules"].pop()
    assert flow_from_data(document, files=given_files({"a.ts": A_TS})).value.modules[0].value.content == A_TS


def test_a_string_that_only_mentions_inline_is_left_as_it_is():
    document = {"value": {"modules": [{"id": "a", "value": {
        "type": "rawscript", "language": "python3", "content": B_PY,
        "input_transforms": {"x": {"type": "static", "value": "!inline a.ts"}}}}]}}
    loaded = flow_from_data(document)
    assert loaded.value.modules[0].value.input_transforms["x"].value == "!inline a.ts"
