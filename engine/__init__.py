"""Millrace engine: run OpenFlow flows durably; the only names the app may import.

Names load lazily so `python -m engine` starts fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Engine": "engine.engine",
    "as_document": "engine.engine",
    "document_schema": "engine.engine",
    "RunResult": "engine.executor.flow",
    "RunJournal": "engine.run_journal",
    "Event": "engine.events",
    "EventBus": "engine.events",
    "EventRelay": "engine.pgevents",
    "Clock": "engine.clock",
    "FakeClock": "engine.clock",
    "Resolver": "engine.resolver",
    "load_checked_flow": "engine.loading",
    "check_flow": "engine.loading",
    "FlowDocument": "engine.openflow",
    "load_flow": "engine.openflow",
    "parse_flow": "engine.openflow",
    "flow_from_data": "engine.openflow",
    "dump_flow": "engine.openflow",
    "validate_flow": "engine.openflow",
    "validate_args": "engine.openflow",
    "iter_modules": "engine.openflow",
    "Evaluator": "engine.expressions",
    "Scope": "engine.expressions",
    "RunnerPool": "engine.runners",
    "ScriptJob": "engine.runners",
    "script_schema": "engine.runners",
    "check_script": "engine.runners",
    "Store": "engine.store",
    "retrying_for": "engine.store.retry",
    "is_transient": "engine.store.retry",
    "MillraceError": "engine.errors",
    "BadInput": "engine.errors",
    "FlowLoadError": "engine.errors",
    "FlowValidationError": "engine.errors",
    "ArgsValidationError": "engine.errors",
    "ScriptLoadError": "engine.errors",
    "ExpressionSyntaxError": "engine.errors",
    "ExpressionError": "engine.errors",
    "NotFound": "engine.errors",
    "ItemPathError": "engine.errors",
    "check_item_path": "engine.item_paths",
    "StepFailure": "engine.errors",
    "QueueWorker": "engine.worker",
    "Scheduler": "engine.scheduler",
    "script_flow_value": "engine.scheduler",
    "Cron": "engine.cron",
    "describe_cron": "engine.cron",
    "timezones": "engine.cron",
    "Vault": "engine.vault",
    "data_folder": "engine.vault",
    "Signer": "engine.signing",
    "ResourceValidationError": "engine.resources",
    "DependencyError": "engine.errors",
    "lock_script": "engine.deps.saving",
    "lock_flow": "engine.deps.saving",
    "lock_covers": "engine.deps.saving",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
