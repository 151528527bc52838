"""Every benchmark, one table: medians of several runs and the ratio to each budget.

Run with `make bench` (or `.venv/bin/python bench/run_all.py`). A ratio above 1.00
means the budget is missed. The load benchmark (bench/load.py, thousands of runs through
queue workers) takes minutes and runs on its own: `make bench-load`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bench_editor, bench_engine, bench_engine_overhead, bench_events, bench_expressions  # noqa: E402


def main() -> None:
    print("Expressions (per evaluation)")
    bench_expressions.print_rows(bench_expressions.main())
    print()
    print("Engine (whole flows)")
    bench_engine.print_rows(bench_engine.main())
    print()
    print("The engine's own cost (no script processes)")
    bench_engine_overhead.print_rows(bench_engine_overhead.main())
    print()
    print("Events across processes (PostgreSQL LISTEN/NOTIFY)")
    bench_events.print_rows(bench_events.main())
    print()
    print("Web app (real Chromium against the running app)")
    bench_editor.print_rows(bench_editor.main())


if __name__ == "__main__":
    main()
