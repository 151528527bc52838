"""Small builders for flow documents in tests, and a helper that runs them."""

from __future__ import annotations

import asyncio
from typing import Any


def transforms(inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs as OpenFlow input transforms: strings starting with `js:` are expressions."""
    out = {}
    for name, value in inputs.items():
        if isinstance(value, str) and value.startswith("js:"):
            out[name] = {"type": "javascript", "expr": value[3:]}
        else:
            out[name] = {"type": "static", "value": value}
    return out


def py(step_id: str, code: str, **inputs: Any) -> dict[str, Any]:
    """A python3 rawscript step."""
    return {"id": step_id, "value": {"type": "rawscript", "language": "python3", "content": code,
                                     "input_transforms": transforms(inputs)}}


def bash(step_id: str, code: str, **inputs: Any) -> dict[str, Any]:
    return {"id": step_id, "value": {"type": "rawscript", "language": "bash", "content": code,
                                     "input_transforms": transforms(inputs)}}


def expr_step(step_id: str, expression: str) -> dict[str, Any]:
    """A python step returning the value of one JS expression (passed as input x)."""
    return py(step_id, "def main(x=None):\n    return x\n", x="js:" + expression)


def for_loop(step_id: str, iterator: str, modules: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    value = {"type": "forloopflow", "iterator": {"type": "javascript", "expr": iterator}, "modules": modules}
    value.update(options)
    return {"id": step_id, "value": value}


def while_loop(step_id: str, modules: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    value = {"type": "whileloopflow", "modules": modules}
    value.update(options)
    return {"id": step_id, "value": value}


def flow(*modules: dict[str, Any], schema: dict[str, Any] | None = None, **value: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"summary": "test", "value": {"modules": list(modules), **value}}
    if schema is not None:
        document["schema"] = schema
    return document


def counter_code(path: str, result: str = "n") -> str:
    """Python that appends a line to `path` each time it runs, then returns `result`."""
    return (
        "def main(x=None):\n"
        f"    with open({path!r}, 'a') as f:\n"
        "        f.write('x\\n')\n"
        f"    n = sum(1 for _ in open({path!r}))\n"
        f"    return {result}\n"
    )


def run(engine: Any, document: dict[str, Any], args: dict[str, Any] | None = None, **kw: Any) -> Any:
    return asyncio.run(_run(engine, document, args, **kw))


async def _run(engine: Any, document: dict[str, Any], args: dict[str, Any] | None, **kw: Any) -> Any:
    return await engine.run(document, args or {}, **kw)


def span_code(path: str, seconds: float, result: str = "1") -> str:
    """Python that sleeps `seconds`, appending its start and end time to `path`."""
    return (
        "import time\n"
        "def main():\n"
        "    start = time.time()\n"
        f"    time.sleep({seconds})\n"
        f"    open({path!r}, 'a').write(f'{{start}} {{time.time()}}\\n')\n"
        f"    return {result}\n"
    )


def peak_overlap(path: Any) -> int:
    """How many of the spans recorded by `span_code` in `path` ran at the same time, at most."""
    with open(path) as f:
        spans = [tuple(map(float, line.split())) for line in f]
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak

