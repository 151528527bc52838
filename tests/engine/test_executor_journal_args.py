"""The args a step's journal record keeps: whole when small, big ones by their size."""

from __future__ import annotations

import json

import pytest

from engine.executor.journal import ARGS_LIMIT, kept_args


@pytest.mark.parametrize("value", [None, True, 3, -(10**19), 1.5e-300, "", "x" * 5000, "\U0001F600" * 5000, "\x00" * 5000])
def test_small_plain_args_are_kept_whole(value):
    assert kept_args({"a": value, "b": 1}) == {"a": value, "b": 1}


def test_args_whose_json_passes_the_limit_are_kept_by_size_only():
    emoji = "\U0001F600" * 6000  # 6,000 characters, 72,002 bytes of JSON
    kept = kept_args({"emoji": emoji, "n": 1})
    assert kept == {"emoji": f"… {len(json.dumps(emoji)):,} bytes, not kept", "n": 1}
    assert len(json.dumps(emoji)) > ARGS_LIMIT
    assert kept_args({"list": list(range(20_000))})["list"] == "… 128,890 bytes, not kept"


def test_strings_that_might_pass_the_limit_together_are_measured():
    args = {f"s{i}": "y" * 1000 for i in range(60)}  # 60,120 bytes: under the limit
    assert kept_args(args) == args
    both = kept_args({"a": "z" * 40_000, "b": "w" * 40_000})
    assert both == {"a": "… 40,002 bytes, not kept", "b": "… 40,002 bytes, not kept"}
