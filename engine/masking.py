"""Masking: secret values replaced by `***` in what a run shows (its log lines)."""

from __future__ import annotations

from typing import Iterable

MASK = "***"
MIN_MASKED_LENGTH = 3
"""Shorter secret values are not masked: masking "a" would garble every line."""


def masked_values(values: Iterable[str]) -> list[str]:
    """The values worth masking, longest first (so a secret containing another is masked whole)."""
    return sorted({v for v in values if len(v) >= MIN_MASKED_LENGTH}, key=len, reverse=True)


def mask(line: str, secrets: list[str]) -> str:
    """`line` with every value of `secrets` (as `masked_values` orders them) replaced by `***`."""
    for secret in secrets:
        if secret in line:
            line = line.replace(secret, MASK)
    return line
