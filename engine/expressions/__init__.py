"""JavaScript expressions of flows: input transforms, iterators and predicates."""

from __future__ import annotations

from engine.expressions.evaluator import Evaluator
from engine.expressions.scope import Scope

__all__ = ["Evaluator", "Scope"]
