"""YAML aliases are bounded: a "billion laughs" document is refused quickly, before it is
expanded; ordinary anchors still work; documents nested too deeply are refused too."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from engine import FlowLoadError, FlowValidationError, parse_flow
from engine.openflow.loader import MAX_DEPTH
from engine.openflow.yaml_data import MAX_ALIASED_NODES

ROOT = Path(__file__).resolve().parents[2]


def billion_laughs(levels: int = 8, fold: int = 9) -> str:
    """A flow with a field of `fold ** levels` strings, written with a few hundred bytes
    (a field Millrace does not know is kept, and so walked by every save)."""
    lines = ['a0: &a0 ["lol"]']
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * fold)}]")
    lines.append(f"value: {{modules: [{{id: x, value: {{type: identity}}}}]}}\nlaughs: *a{levels}")
    return "\n".join(lines) + "\n"


def merge_laughs(levels: int = 8, fold: int = 9) -> str:
    """The same blow-up through merge keys (`<<`), which PyYAML flattens while building."""
    lines = ["m0: &m0 {k0: lol}"]
    for level in range(1, levels + 1):
        merges = ", ".join([f"*m{level - 1}"] * fold)
        lines.append(f"m{level}: &m{level} {{<<: [{merges}], k{level}: x}}")
    lines.append("value: {modules: []}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text", [billion_laughs(), merge_laughs()], ids=["aliases", "merge-keys"])
def test_an_alias_bomb_is_refused_fast_and_without_expanding_it(text):
    assert len(text.encode()) < 800
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(FlowLoadError) as caught:
        parse_flow(text, source="laughs.yaml")
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 0.5
    assert peak < 5_000_000
    message = str(caught.value)
    assert message.startswith("laughs.yaml:")
    assert "its aliases expand" in message
    assert f"more than {MAX_ALIASED_NODES:,} added nodes allowed" in message


def test_the_bomb_is_refused_at_any_depth_of_aliases():
    with pytest.raises(FlowLoadError, match="its aliases expand"):
        parse_flow(billion_laughs(levels=30, fold=2), source="x.yaml")


def test_a_recursive_alias_is_refused():
    text = "value: &v {modules: [{id: a, value: {type: identity}, summary: *v}]}\n"
    with pytest.raises(FlowLoadError, match="an alias refers to a node that contains it"):
        parse_flow(text, source="loop.yaml")


def test_ordinary_anchors_and_aliases_still_load():
    text = """\
common: &inputs {x: {type: static, value: 1}}
value:
  modules:
    - {id: a, value: {type: rawscript, language: bash, content: "echo 1", input_transforms: *inputs}}
    - {id: b, value: {type: rawscript, language: bash, content: "echo 2", input_transforms: *inputs}}
"""
    document = parse_flow(text, source="ok.yaml")
    transforms = [module.value.input_transforms["x"].value for module in document.value.modules]
    assert transforms == [1, 1]


def test_aliases_may_add_up_to_the_limit():
    # 100 items of 999 nodes each: 99,900 nodes added by aliases, just under the limit.
    text = "big: &big [" + ", ".join(["1"] * 998) + "]\nvalue: {modules: []}\nlots: [" + \
        ", ".join(["*big"] * 100) + "]\n"
    assert len(parse_flow(text, source="ok.yaml").model_extra["lots"]) == 100


@pytest.mark.parametrize("syntax", ["json", "yaml"])
def test_a_document_nested_too_deeply_is_refused(syntax):
    depth = MAX_DEPTH + 10
    text = '{"value": {"modules": []}, "extra": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(FlowValidationError, match="nested too deeply"):
        parse_flow(text, source=f"deep.{syntax}")


@pytest.mark.parametrize("syntax", ["json", "yaml"])
def test_a_document_nested_beyond_the_parser_is_refused(syntax):
    text = "[" * 100_000 + "]" * 100_000
    with pytest.raises(FlowLoadError, match="nested too deeply"):
        parse_flow(text, source=f"deep.{syntax}")


# Started from a small parent: on Linux a child's peak memory includes that of the process
# it was forked from before its exec, and this test's own process may be large by then.
MEASURED = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)
"""


def test_the_cli_refuses_the_bomb_with_exit_2_in_little_time_and_memory(tmp_path):
    (tmp_path / "laughs.yaml").write_text(billion_laughs())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    started = time.perf_counter()
    child = subprocess.run([sys.executable, "-c", MEASURED, sys.executable, "-m", "engine", "run", "laughs.yaml"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    assert child.returncode == 2, child.stderr
    assert child.stderr.startswith("error: laughs.yaml:2: invalid YAML: its aliases expand")
    assert elapsed < 10
    assert int(child.stdout) < 300_000  # KiB: the interpreter and its imports, no expansion
