"""Expression speed: a fast-path expression and a full JS one, in µs per evaluation,
and how soon a runaway one (a backtracking regular expression) fails.

Prints the median of several runs and the ratio to each budget (ratio <= 1 meets it).
Run from the project root: `.venv/bin/python bench/bench_expressions.py`.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.errors import ExpressionTimeout  # noqa: E402
from engine.expressions import Evaluator, Scope  # noqa: E402

RUNS = 7
EVALS = 2000
CASES = [
    ("expression fast path", "results.a.b[0] + flow_input.x", 20.0),
    ("expression full JS", "results.a.items.map(x => x.v * 2).filter(v => v > 2)", 1000.0),
]
RUNAWAY = ("runaway regex stops", '/(a+)+$/.test("a".repeat(40) + "b")', 1_000_000.0)
RUNAWAY_RUNS = 5


def median_us(evaluator: Evaluator, expr: str, scope: Scope) -> float:
    """Median over RUNS of the mean time of one evaluation, in µs."""
    evaluator.evaluate(expr, scope)
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        for _ in range(EVALS):
            evaluator.evaluate(expr, scope)
        samples.append((time.perf_counter() - started) / EVALS * 1e6)
    return statistics.median(samples)


def runaway_us(evaluator: Evaluator, expr: str, scope: Scope) -> float:
    """Median over RUNAWAY_RUNS of the time `expr` takes to fail with ExpressionTimeout, in µs."""
    samples = []
    for _ in range(RUNAWAY_RUNS):
        evaluator.evaluate("[1].map(x => x)", scope)  # a warm helper, as a running app has
        started = time.perf_counter()
        with contextlib.suppress(ExpressionTimeout):
            evaluator.evaluate(expr, scope)
        samples.append((time.perf_counter() - started) * 1e6)
    return statistics.median(samples)


def main() -> list[dict]:
    """Run every case; return rows {name, median_us, budget_us, ratio}."""
    evaluator = Evaluator()
    scope = Scope(
        flow_input={"x": 2, "name": "bench"},
        results={"a": {"b": [10, 20], "items": [{"v": i} for i in range(5)]}, "other": list(range(100))},
    )
    rows = []
    for name, expr, budget in [*CASES, RUNAWAY]:
        measure = runaway_us if (name, expr, budget) == RUNAWAY else median_us
        median = measure(evaluator, expr, scope)
        ratio = round(median / budget, 3)
        rows.append({"name": name, "median_us": round(median, 2), "budget_us": budget, "ratio": ratio})
    return rows


def print_rows(rows: list[dict]) -> None:
    for row in rows:
        print(
            f"{row['name']:<24} {row['median_us']:>10.2f} µs   "
            f"budget {row['budget_us']:>7.0f} µs   ratio {row['ratio']:.3f}"
        )


if __name__ == "__main__":
    print_rows(main())
