"""The one error tree of the engine.

    MillraceError                     base of every error the engine raises on purpose
    ├── BadInput                      the caller gave something unusable (CLI exit 2)
    │   ├── FlowLoadError             file unreadable, invalid JSON/YAML (file, line)
    │   ├── FlowValidationError       flow document breaks OpenFlow rules (JSON paths)
    │   ├── ArgsValidationError       args break the flow/script schema (JSON paths)
    │   ├── ScriptLoadError           a script cannot be used (no `main`, bad language)
    │   ├── ItemPathError             a flow/script/variable/... path breaks the grammar
    │   ├── DependencyError           a script's dependencies cannot be resolved or installed
    │   └── ExpressionSyntaxError     a JS expression does not parse (step, expr, position)
    ├── ExpressionError               an expression failed while evaluating
    │   ├── ExpressionTimeout         it ran past its time limit
    │   └── ExpressionMemoryError     it ran past its memory limit
    ├── NotFound                      a flow, script or run path that does not exist
    └── SchemaVersionError            the database was upgraded by a newer Millrace

A failing user script or expression inside a run never raises out of the executor:
it becomes a recorded failure, the error object `{"name", "message", "stack",
"step_id", "iteration"?}` built by `StepFailure.to_dict()`. Only engine bugs raise.

A message quotes what the caller gave only shortened (`quote`, `shorten`): an error
never echoes a large input back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

QUOTE_CHARS = 80
"""How much of a value a message quotes."""
EXPR_CHARS = 200
"""How much of an expression a message quotes."""
ISSUE_CHARS = 400
"""How long one issue's message may be."""
LISTED_ISSUES = 50
"""How many issues an error lists; the rest are counted."""


def shorten(text: str, limit: int) -> str:
    """`text`, or its start and end around a note of how much was left out."""
    if len(text) <= limit:
        return text
    keep = max(limit - 40, 10)
    return f"{text[:keep * 3 // 4]}…[{len(text) - keep} characters left out]…{text[-(keep // 4):]}"


def quote(value: Any, limit: int = QUOTE_CHARS) -> str:
    """`repr(value)` for a message, shortened to about `limit` characters."""
    if isinstance(value, str):
        return repr(shorten(value, limit))
    return shorten(repr(value), limit)


class MillraceError(Exception):
    """Base of every error the engine raises on purpose."""


class BadInput(MillraceError):
    """The caller gave something unusable; the CLI exits with 2."""


@dataclass
class Issue:
    """One problem found in a document, with the JSON path where it is."""

    path: str
    message: str

    def __post_init__(self) -> None:
        # Validators quote the value they refuse (jsonschema: "'...' is not of type ...").
        self.path, self.message = shorten(self.path, ISSUE_CHARS), shorten(self.message, ISSUE_CHARS)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class FlowLoadError(BadInput):
    """A flow file cannot be read or parsed."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        self.file, self.line = file, line
        where = file or "<input>"
        if line is not None:
            where += f":{line}"
        super().__init__(f"{where}: {message}")


class _IssuesError(BadInput):
    title = "invalid"

    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        lines = [f"  {issue}" for issue in self.issues[:LISTED_ISSUES]]
        if len(self.issues) > LISTED_ISSUES:
            lines.append(f"  ... and {len(self.issues) - LISTED_ISSUES} more")
        super().__init__(f"{self.title} ({len(self.issues)} error(s)):\n" + "\n".join(lines))


class FlowValidationError(_IssuesError):
    """The flow document breaks OpenFlow rules; every issue names its JSON path."""

    title = "invalid flow"


class ArgsValidationError(_IssuesError):
    """The args break the schema; every issue names its JSON path."""

    title = "invalid args"


class ScriptLoadError(BadInput):
    """A script cannot be used: no `main`, unsupported language, unreadable."""


class DependencyError(BadInput):
    """A script's dependencies cannot be had: a package that does not exist, a version
    conflict, a build failure, a Python version the script does not run on. The message
    names the package and quotes the resolver."""


class ExpressionSyntaxError(BadInput):
    """A JavaScript expression does not parse."""

    def __init__(self, message: str, *, expr: str, where: str = "", position: int | None = None):
        self.expr, self.where, self.position, self.reason = expr, where, position, message
        at = f" at position {position}" if position is not None else ""
        loc = f"{where}: " if where else ""
        super().__init__(f"{loc}syntax error in expression {quote(expr, EXPR_CHARS)}{at}: {message}")


class ExpressionError(MillraceError):
    """An expression failed while it was evaluated."""

    def __init__(self, message: str, *, expr: str, where: str = ""):
        self.expr, self.where, self.reason = expr, where, message
        loc = f"{where}: " if where else ""
        super().__init__(f"{loc}expression {quote(expr, EXPR_CHARS)} failed: {message}")


class ExpressionTimeout(ExpressionError):
    """The expression ran past its time limit."""


class ExpressionMemoryError(ExpressionError):
    """The expression ran past its memory limit."""


class ItemPathError(BadInput):
    """A flow, script, variable, resource or schedule path breaks the grammar
    (`engine.item_paths`); the message names the path and the problem."""


class NotFound(MillraceError):
    """A flow, script or run that does not exist."""


class SchemaVersionError(MillraceError):
    """The database's schema is of a newer Millrace than this one (it cannot be used)."""


@dataclass
class StepFailure:
    """A recorded failure of a step: what a failed step's result is."""

    name: str
    message: str
    stack: str = ""
    step_id: str | None = None
    iteration: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"name": self.name, "message": self.message, "stack": self.stack}
        if self.step_id is not None:
            error["step_id"] = self.step_id
        if self.iteration is not None:
            error["iteration"] = self.iteration
        error.update(self.extra)
        return error

    @classmethod
    def from_dict(cls, error: dict[str, Any]) -> "StepFailure":
        known = {"name", "message", "stack", "step_id", "iteration"}
        return cls(
            name=str(error.get("name", "Error")),
            message=str(error.get("message", "")),
            stack=str(error.get("stack", "")),
            step_id=error.get("step_id"),
            iteration=error.get("iteration"),
            extra={k: v for k, v in error.items() if k not in known},
        )


class RunLost(Exception):
    """This worker may not work on a run any more: another worker took it over.

    Not a MillraceError on purpose: nothing that turns errors into a step's failure may
    catch it; it ends the run's task on the worker that lost it, writing nothing.
    """
