"""One way to report a benchmark: the median of several samples, their min–max, and the
ratio to the budget (above 1.00: the budget is missed)."""

from __future__ import annotations

import statistics


def row(name: str, samples: list[float], budget: float | None) -> dict:
    """A row of seconds-valued `samples` against `budget` seconds (None: no budget)."""
    median = statistics.median(samples)
    return {"name": name, "median_ms": round(median * 1000, 3),
            "range": f"{min(samples) * 1000:.2f}–{max(samples) * 1000:.2f} ms",
            "budget_ms": None if budget is None else budget * 1000,
            "ratio": None if budget is None else round(median / budget, 2)}


def single(name: str, seconds: float, budget: float | None) -> dict:
    """A row of one derived figure (no spread of its own)."""
    return {**row(name, [seconds], budget), "range": ""}


def print_rows(rows: list[dict]) -> None:
    """The rows as a table: median, min–max, budget, ratio."""
    print(f"{'benchmark':48} {'median':>12} {'min–max':>22} {'budget':>9} {'ratio':>6}")
    for r in rows:
        budget = f"{r['budget_ms']:g} ms" if r["budget_ms"] is not None else "-"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
        print(f"{r['name']:48} {r['median_ms']:>9.3f} ms {r['range']:>22} {budget:>9} {ratio:>6}")
