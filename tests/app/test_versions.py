"""Version history rows and the YAML line diff of two versions."""

from __future__ import annotations

from types import SimpleNamespace

from app.views import versions


def flow(greeting: str, extra_steps: int = 0) -> dict:
    modules = [{"id": "a", "value": {"type": "rawscript", "language": "python3",
                                     "content": f"def main():\n    return '{greeting}'\n"}}]
    modules += [{"id": f"s{n}", "value": {"type": "identity"}} for n in range(extra_steps)]
    return {"summary": "demo", "value": {"modules": modules}}


def test_a_changed_line_shows_as_removed_then_added_with_line_numbers():
    rows = versions.diff_rows(flow("hello"), flow("goodbye"))
    changed = [row for row in rows if row["kind"] != "same"]
    assert [row["kind"] for row in changed] == ["removed", "added"]
    assert "hello" in changed[0]["text"] and "goodbye" in changed[1]["text"]
    assert changed[0]["old"] == changed[1]["new"] != "" and changed[0]["new"] == changed[1]["old"] == ""
    assert versions.diff_summary(rows) == "+1 −1"


def test_equal_documents_have_no_diff():
    assert versions.diff_rows(flow("x"), flow("x")) == []
    assert versions.diff_summary([]) == "no differences"


def test_far_apart_changes_are_separate_hunks_with_a_gap():
    old = {"a": 1, **{f"k{n}": n for n in range(20)}, "z": 1}
    new = {"a": 2, **{f"k{n}": n for n in range(20)}, "z": 2}
    rows = versions.diff_rows(old, new)
    assert [row["kind"] for row in rows].count("gap") == 1
    assert len([row for row in rows if row["kind"] == "same"]) == 2 * versions.CONTEXT_LINES


def test_added_steps_are_only_added_lines():
    rows = versions.diff_rows(flow("x"), flow("x", extra_steps=1))
    assert {row["kind"] for row in rows} == {"same", "added"}
    assert any("id: s0" in row["text"] for row in rows)


def test_version_rows_are_strings_newest_first_as_given():
    stored = [SimpleNamespace(version=2, created_at=0.0, created_by=None, summary="s"),
              SimpleNamespace(version=1, created_at=86400.0, created_by="api", summary="")]
    assert versions.version_rows(stored) == [
        {"version": "2", "when": "1970-01-01 00:00:00", "by": "admin", "summary": "s"},
        {"version": "1", "when": "1970-01-02 00:00:00", "by": "api", "summary": ""}]
