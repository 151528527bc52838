"""The names the app (and anyone) may import from `engine`: pinned, and all importable."""

from __future__ import annotations

import engine

PUBLIC = {
    "ArgsValidationError", "BadInput", "Clock", "DependencyError", "lock_covers", "lock_flow", "lock_script", "Cron", "Engine", "Evaluator", "Event",
    "EventBus", "EventRelay", "ExpressionError", "ExpressionSyntaxError", "FakeClock", "FlowDocument",
    "FlowLoadError", "FlowValidationError", "ItemPathError", "MillraceError", "NotFound", "QueueWorker", "Resolver",
    "ResourceValidationError", "RunJournal", "RunResult", "RunnerPool", "Scheduler", "Scope", "ScriptJob",
    "ScriptLoadError", "Signer", "StepFailure", "Store", "Vault", "as_document", "check_flow",
    "check_item_path", "check_script", "data_folder", "describe_cron", "document_schema", "dump_flow", "flow_from_data",
    "is_transient", "iter_modules", "load_checked_flow", "load_flow", "parse_flow", "retrying_for", "script_flow_value",
    "script_schema", "timezones", "validate_args", "validate_flow",
}


def test_public_names_are_pinned():
    assert set(engine.__all__) == PUBLIC


def test_every_public_name_imports():
    for name in engine.__all__:
        assert getattr(engine, name) is not None, name
