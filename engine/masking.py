"""Secrets masked as `***` in everything a run shows: log lines, events, results, errors.

What counts as a secret of a workspace: the value of every secret variable, and every
string under a secret-named field (password, token, secret, api key, private key,
credential, webhook URL) of every resource, with `$var:` references expanded. Values
shorter than `MIN_LENGTH` are not masked (masking "a" would garble every line).

Where masking happens (see the README's Security model):
- log lines are masked before they are stored or sent, whatever the stream;
- every event a run emits is masked as it is emitted (`RunContext.emit`), so the
  browser, the CLI display and other processes only see masked results and errors;
- results and errors are stored as they are, because later steps (after a restart, an
  approval, on another worker) read them back; what people are shown of them goes
  through `MaskedStore`, the store as operators see it (the app and the CLI).
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable, Iterable

MASK = "***"
MIN_LENGTH = 3
"""Shorter secret values are not masked."""
REFRESH_SECONDS = 2.0
"""How long a list of secrets is used before it is read again: a secret saved by another
process is masked here within this time (one saved through this store at once)."""
SECRET_FIELD = re.compile(r"pass(word|wd)?|secret|token|api_?key|private_?key|credential|webhook_url", re.I)
"""Names of resource fields whose values are secrets."""


def masked_values(values: Iterable[str]) -> list[str]:
    """The values worth masking, longest first (so a secret containing another is masked whole)."""
    return sorted({value for value in values if len(value) >= MIN_LENGTH}, key=len, reverse=True)


class Masker:
    """Replaces the secret values a `source` lists with `***` in text and JSON data.

    Args:
        source: returns the secret values (read again after `REFRESH_SECONDS`, or at once
            when `version()` changes).
        version: a number that changes whenever secrets may have changed in this process.
    """

    def __init__(self, source: Callable[[], list[str]], version: Callable[[], int] = lambda: 0):
        self._source, self._version = source, version
        self._values: list[str] = []
        self._key: tuple[int, float] | None = None

    def values(self) -> list[str]:
        """The secret values to mask, longest first (so a secret inside another goes too)."""
        key = (self._version(), time.monotonic() // REFRESH_SECONDS)
        if key != self._key:
            self._values, self._key = masked_values(self._source()), key
        return self._values

    def text(self, text: str) -> str:
        """`text` with every secret value replaced by `***`."""
        return _mask_data(text, self.values())

    def data(self, value: Any) -> Any:
        """JSON data with secrets masked in every string, keys included (a new value)."""
        secrets = self.values()
        return _mask_data(value, secrets) if secrets else value


class MaskedStore:
    """A Store as operators see it: every run, step record and log line it returns comes
    back with secrets masked in its result, error, data (a step's args) or line, whichever
    method returned it;
    everything else passes through.

    Objects the store returns are fresh copies, so they are masked in place.
    """

    def __init__(self, store: Any, masker: Masker):
        self.store, self.masker = store, masker

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.store, name)
        if not callable(method):
            return method
        return lambda *args, **kwargs: self._masked(method(*args, **kwargs))

    def _masked(self, found: Any) -> Any:
        from engine.store.tables import LogEntry, Run, StepRecord

        items = found.values() if isinstance(found, dict) else found if isinstance(found, (list, tuple)) else [found]
        for item in items:
            if isinstance(item, Run):
                item.result, item.error = self.masker.data(item.result), self.masker.data(item.error)
            elif isinstance(item, StepRecord):  # its data keeps the args it ran with
                item.result, item.error = self.masker.data(item.result), self.masker.data(item.error)
                item.data = self.masker.data(item.data)
            elif isinstance(item, LogEntry):
                item.line = self.masker.text(item.line)
        return found


def masker_for(store: Any, workspace: str = "main") -> Masker:
    """A Masker of the secrets of `store`'s workspace, re-read when this store writes one."""
    return Masker(lambda: workspace_secrets(store, workspace), version=lambda: store.secret_writes)


def workspace_secrets(store: Any, workspace: str = "main") -> list[str]:
    """Every secret value of a workspace: secret variables, secret-named resource fields."""
    from engine.errors import MillraceError
    from engine.vault import Vault

    vault = Vault.of(store)
    values = list(vault.secret_values(workspace=workspace))
    for row in store.list_resource_rows(workspace=workspace):
        try:
            value = vault.interpolate(row.value, workspace=workspace)
        except MillraceError:  # a reference to a missing variable: nothing to mask there
            value = row.value
        values.extend(_secret_fields(value))
    return values


def _secret_fields(value: Any, secret: bool = False) -> list[str]:
    if isinstance(value, dict):
        return [found for key, item in value.items()
                for found in _secret_fields(item, secret or bool(SECRET_FIELD.search(str(key))))]
    if isinstance(value, list):
        return [found for item in value for found in _secret_fields(item, secret)]
    return [value] if secret and isinstance(value, str) else []


def _mask_data(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {_mask_data(key, secrets): _mask_data(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_data(item, secrets) for item in value]
    return value
