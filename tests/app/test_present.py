"""How pages present engine records (pure functions, no server)."""

from __future__ import annotations

from app import present


def test_duration_reads_in_seconds_minutes_or_hours():
    assert present.duration(100.0, 100.42) == "0.42 s"
    assert present.duration(100.0, 285.0) == "3 min 05 s"
    assert present.duration(0.5, 0.5 + 2 * 3600 + 7 * 60) == "2 h 07 min"
    assert present.duration(None, 5.0) == ""


def test_long_json_is_cut_with_a_note_saying_how_much_is_left():
    text = present.pretty_json({"data": "x" * 100}, limit=20)
    assert text.startswith('{\n  "data": "xxxx')
    assert text.endswith("more characters)")
    assert present.pretty_json({"a": 1}) == '{\n  "a": 1\n}'
