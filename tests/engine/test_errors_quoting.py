"""An error never echoes a large input back: what it quotes is shortened, and it lists a
bounded number of problems."""

from __future__ import annotations

import pytest

from engine import ArgsValidationError, BadInput, Evaluator, ExpressionSyntaxError, Store, Vault, validate_args
from engine.errors import LISTED_ISSUES, quote, shorten

HUGE = "x" * 1_000_000


def test_shorten_keeps_both_ends_and_says_how_much_is_left_out():
    text = "start-" + "m" * 10_000 + "-end"
    short = shorten(text, 100)
    assert len(short) < 130
    assert short.startswith("start-") and short.endswith("-end")
    assert "characters left out" in short
    assert shorten("small", 100) == "small"
    assert quote("it's") == repr("it's")


def test_args_errors_quote_a_huge_value_shortened():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    with pytest.raises(ArgsValidationError) as caught:
        validate_args(schema, {"n": HUGE})
    message = str(caught.value)
    assert len(message) < 600
    assert message.startswith("invalid args (1 error(s)):\n  args.n: 'xxx")


def test_errors_list_a_bounded_number_of_issues():
    schema = {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "integer"}}}}
    with pytest.raises(ArgsValidationError) as caught:
        validate_args(schema, {"items": ["a"] * 10_000})
    message = str(caught.value)
    assert len(caught.value.issues) == 10_000  # all kept for callers that want them
    assert message.startswith("invalid args (10000 error(s)):")
    assert message.count("\n  args.items[") == LISTED_ISSUES
    assert message.endswith(f"... and {10_000 - LISTED_ISSUES} more")


def test_an_expression_syntax_error_quotes_the_expression_shortened():
    with pytest.raises(ExpressionSyntaxError) as caught:
        Evaluator().check("a" * 100_000 + " +", where="step a")
    assert len(str(caught.value)) < 400


def test_a_resource_error_quotes_the_value_shortened(tmp_path, monkeypatch):
    monkeypatch.setenv("MILLRACE_SECRET_KEY", "quote key")
    store = Store.open(f"sqlite:///{tmp_path / 'q.db'}")
    try:
        with pytest.raises(BadInput) as caught:
            Vault(store).set_resource("u/admin/db", {"host": "h", "dbname": "d", "port": HUGE}, "postgresql")
    finally:
        store.close()
    message = str(caught.value)
    assert message.startswith("resource u/admin/db (type postgresql) is invalid: value.port: 'xxx")
    assert len(message) < 600
