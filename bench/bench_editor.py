"""Flow editor speed in a real Chromium against the real app: time to interactive of the
largest bundled example (`examples/`, imported on first start) and of a 50-step flow, and
how long a step's result takes to reach the page once the step ends. Prints medians,
min–max and the ratio to each budget (`bench/figures.py`).

Run from the project root: `.venv/bin/python bench/bench_editor.py` (builds the
frontend like the app tests do, then starts the app on a free test port).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.views.flow_graph import build_graph  # noqa: E402
from app.views.flow_ops import iter_steps  # noqa: E402
from bench.figures import print_rows, row  # noqa: E402
from tests.app.apikit import W, flow_body  # noqa: E402
from tests.app.conftest import CHROMIUM, CHROMIUM_ARGS, log_in, session_cookie  # noqa: E402
from tests.app.server import ADMIN_PASSWORD, running_app  # noqa: E402

LOADS = 7
PREVIEWS = 3
STEPS = 50
STREAM_STEPS = 5
TTI_BUDGET = 1.0
LATENCY_BUDGET = 0.2

# Resolves once every node of the flow is drawn and measured (React Flow shows a node
# only when it has its size), with the time since navigation started.
ALL_NODES_SHOWN = """(count) => {
  const nodes = document.querySelectorAll('.react-flow__node');
  if (nodes.length < count) return false;
  for (const node of nodes) if (getComputedStyle(node).visibility === 'hidden') return false;
  return performance.now();
}"""

# Records the wall-clock time (ms since the epoch, Date.now(): the server stamps steps with
# time.time(); performance.timeOrigin drifts from it) at which each step result appears.
WATCH_RESULTS = """() => {
  window.__arrivals = {};
  const seen = (el) => {
    const key = el.getAttribute('data-preview-result');
    if (key && !(key in window.__arrivals)) window.__arrivals[key] = Date.now();
  };
  new MutationObserver((records) => {
    for (const record of records) for (const node of record.addedNodes) {
      if (node.nodeType !== 1) continue;
      if (node.matches('[data-preview-result]')) seen(node);
      node.querySelectorAll('[data-preview-result]').forEach(seen);
    }
  }).observe(document.body, { childList: true, subtree: true });
}"""


def step(step_id: str, code: str, **inputs: str) -> dict:
    transforms = {name: {"type": "javascript", "expr": expr} for name, expr in inputs.items()}
    return {"id": step_id, "summary": f"Step {step_id}",
            "value": {"type": "rawscript", "language": "python3", "content": code, "input_transforms": transforms}}


def big_flow() -> list[dict]:
    """50 steps: a chain of scripts with a for loop and a branch among them."""
    code = "def main(x=None):\n    return {'n': 1}\n"
    modules = [step(f"s{i}", code, x=f"results.s{i - 1}" if i else "flow_input") for i in range(STEPS - 6)]
    body = [step("inner1", code), step("inner2", code, x="results.inner1")]
    modules.append({"id": "each", "value": {"type": "forloopflow", "modules": body,
                                            "iterator": {"type": "javascript", "expr": "[1, 2]"}}})
    modules.append({"id": "pick", "value": {"type": "branchone", "default": [step("other", code)], "branches": [
        {"expr": "true", "modules": [step("yes", code)]}]}})
    return modules


def largest_example() -> tuple[str, int, int]:
    """The bundled example flow with the most steps: its path in the app, its step and
    node counts."""
    sizes = []
    for file in sorted((ROOT / "examples").glob("*.flow.yaml")):
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
        steps = len(list(iter_steps((document.get("value") or {}).get("modules") or [])))
        sizes.append((steps, file.name.removesuffix(".flow.yaml"), len(build_graph(document).nodes)))
    steps, name, nodes = max(sizes)
    return f"f/examples/{name}", steps, nodes


def stream_flow() -> list[dict]:
    code = "import time\n\ndef main():\n    time.sleep(0.2)\n    return {'ok': True}\n"
    return [step(f"t{i}", code) for i in range(STREAM_STEPS)]


def logged_in(browser, url: str, secret: str):
    """A new browser context with admin's session (pages refuse anyone else)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_cookies([session_cookie(url, secret)])
    return context


def time_to_interactive(browser, url: str, secret: str, path: str, node_count: int) -> list[float]:
    samples = []
    for _ in range(LOADS):
        context = logged_in(browser, url, secret)
        page = context.new_page()
        page.goto(f"{url}/flows/edit/{path}", wait_until="commit")
        samples.append(page.wait_for_function(ALL_NODES_SHOWN, arg=node_count, polling="raf",
                                              timeout=30_000).json_value() / 1000)
        context.close()
    return samples[1:]  # the first load also warms the server's caches


def result_latency(browser, url: str, secret: str, path: str, store) -> list[float]:
    samples = []
    context = logged_in(browser, url, secret)
    page = context.new_page()
    page.goto(f"{url}/flows/edit/{path}")
    page.locator('.react-flow__node[data-id="t0"]').wait_for()
    for _ in range(PREVIEWS):
        page.evaluate(WATCH_RESULTS)
        page.locator("[data-action=test-flow]").click()
        last = f'[data-preview-result="t{STREAM_STEPS - 1}"]'
        page.locator(last).wait_for(timeout=30_000)
        page.wait_for_function("() => !document.querySelector('[data-action=test-flow]').disabled")
        arrivals = page.evaluate("window.__arrivals")
        run = store.list_runs(limit=1)[0]
        for key, row in store.load_steps(run.id).items():
            if key in arrivals and row.finished_at:
                samples.append(arrivals[key] / 1000 - row.finished_at)
    context.close()
    return samples


def main() -> list[dict]:
    from playwright.sync_api import sync_playwright

    from engine import Store

    with tempfile.TemporaryDirectory() as workdir, running_app(Path(workdir)) as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as api:
            for path, modules in (("f/bench/big", big_flow()), ("f/bench/stream", stream_flow())):
                response = api.post(f"{W}/flows/create", json=flow_body(path, modules))
                assert response.status_code == 201, response.text
        node_count = len(build_graph({"value": {"modules": big_flow()}}).nodes)
        example, example_steps, example_nodes = largest_example()
        store = Store.open(server.db_url)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            secret = log_in(server.url, "admin", ADMIN_PASSWORD)
            tti_example = time_to_interactive(browser, server.url, secret, example, example_nodes)
            tti = time_to_interactive(browser, server.url, secret, "f/bench/big", node_count)
            latency = result_latency(browser, server.url, secret, "f/bench/stream", store)
            browser.close()
    return [row(f"editor TTI, {example.rsplit('/', 1)[1]} ({example_steps} steps)", tti_example, TTI_BUDGET),
            row(f"editor time to interactive, {STEPS} steps", tti, TTI_BUDGET),
            row("step result latency to the browser", latency, LATENCY_BUDGET)]


if __name__ == "__main__":
    print_rows(main())
