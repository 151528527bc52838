"""The import page's upload: a flow file, flow.yaml with its files, or a .zip of its folder."""

from __future__ import annotations

import io
import zipfile

import pytest
import yaml

from app.services.flow_upload import UploadError, flow_text

FLOW = """\
summary: synced  # as wmill sync pull writes it
value:
  modules:
    - id: a
      value: {type: rawscript, language: python3, content: '!inline a.inline_script.py', input_transforms: {}}
"""
NESTED = FLOW.replace("!inline a.inline_script.py", "!inline step/a.py")
SCRIPT = "def main():\n    return 'a'\n"


def _zip(entries: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _content(text: str) -> str:
    return yaml.safe_load(text)["value"]["modules"][0]["value"]["content"]


def test_flow_yaml_chosen_with_its_files_has_them_read_in():
    text, problem = flow_text([("flow.yaml", FLOW.encode()), ("a.inline_script.py", SCRIPT.encode())])
    assert (problem, _content(text)) == ("", SCRIPT)


def test_a_zip_of_the_folder_keeps_subfolders_and_may_hold_the_folder_itself():
    upload = _zip({"greet.flow/flow.yaml": NESTED, "greet.flow/step/a.py": SCRIPT, "greet.flow/notes.bin": "\x00"})
    text, problem = flow_text([("greet.zip", upload)])
    assert (problem, _content(text)) == ("", SCRIPT)


def test_a_flow_without_inline_files_is_kept_as_written():
    plain = FLOW.replace("'!inline a.inline_script.py'", "'def main(): return 1'")
    assert flow_text([("x.flow.yaml", plain.encode())]) == (plain, "")


def test_a_missing_file_shows_the_flow_and_says_which():
    text, problem = flow_text([("flow.yaml", FLOW.encode())])
    assert text == FLOW
    assert "'!inline a.inline_script.py' names a file that was not given with the flow: no a.inline_script.py" in problem


def test_a_name_leaving_the_folder_is_refused_even_when_the_zip_holds_it():
    upload = _zip({"f/flow.yaml": FLOW.replace("a.inline_script.py", "../secret.py"), "secret.py": SCRIPT})
    _, problem = flow_text([("f.zip", upload)])
    assert "'!inline ../secret.py' must name a file inside the flow's folder" in problem


@pytest.mark.parametrize(("files", "says"), [
    ([("a.py", b"x"), ("b.ts", b"y")], "the upload holds no flow file: add flow.yaml"),
    ([("one.flow.yaml", b"x"), ("two.flow.yaml", b"y")], "several flow files (one.flow.yaml, two.flow.yaml)"),
    ([("broken.zip", b"not a zip")], "broken.zip is not a readable zip file"),
    ([("flow.yaml", b"\xff\xfe")], "flow.yaml is not UTF-8 text"),
])
def test_uploads_without_a_usable_flow_are_refused_saying_why(files, says):
    with pytest.raises(UploadError, match=None) as refused:
        flow_text(files)
    assert says in str(refused.value)


def test_a_zip_that_unpacks_too_big_is_refused(monkeypatch):
    monkeypatch.setenv("MILLRACE_MAX_BODY_BYTES", "1000")
    with pytest.raises(UploadError, match="unpacks to more than 1,000 bytes"):
        flow_text([("big.zip", _zip({"flow.yaml": FLOW, "a.inline_script.py": "#" * 2000}))])
