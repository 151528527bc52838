"""The editor's pure core: documents as canvas graphs, and edits of documents."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from app.views.flow_graph import INPUT_ID, RESULT_ID, build_graph, drop_target, referenced_steps
from app.views.flow_ops import (
    PALETTE,
    EditError,
    delete_step,
    find_step,
    id_problem,
    insert_step,
    move_step,
    new_module,
    next_step_id,
    rename_step,
    step_ids,
    steps_before,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def js(expr: str) -> dict:
    return {"type": "javascript", "expr": expr}


def script(step_id: str, **transforms: str) -> dict:
    return {"id": step_id, "value": {"type": "rawscript", "language": "python3",
                                     "content": "def main(x=None):\n    return x\n",
                                     "input_transforms": {k: js(v) for k, v in transforms.items()}}}


def loop(step_id: str, modules: list, summary: str = "") -> dict:
    module = {"id": step_id, "value": {"type": "forloopflow", "iterator": js("[1, 2]"), "modules": modules}}
    if summary:
        module["summary"] = summary
    return module


def branchone(step_id: str, branches: list[list], default: list) -> dict:
    return {"id": step_id, "value": {"type": "branchone", "default": default, "branches": [
        {"expr": "true", "modules": modules} for modules in branches]}}


def doc(*modules: dict) -> dict:
    return {"summary": "t", "value": {"modules": list(modules)}}


def ids_in(document: dict, container: str = "") -> list[str]:
    from app.views.flow_ops import container_list

    return [m["id"] for m in container_list(document, container)]


# ---- graph -------------------------------------------------------------------------------

def test_linear_flow_is_input_steps_result_top_to_bottom():
    graph = build_graph(doc(script("a"), script("b")))
    ids = [n["id"] for n in graph.nodes]
    assert ids == [INPUT_ID, "a", "b", RESULT_ID]
    ys = [n["position"]["y"] for n in graph.nodes]
    assert ys == sorted(ys) and len(set(ys)) == 4
    flow_edges = [(e["source"], e["target"]) for e in graph.edges if not e["id"].startswith("d:")]
    assert flow_edges == [(INPUT_ID, "a"), ("a", "b"), ("b", RESULT_ID)]


def test_every_gap_of_a_list_is_a_slot_carried_by_its_edge():
    graph = build_graph(doc(script("a"), script("b")))
    assert [(s["container"], s["index"]) for s in graph.slots] == [("", 0), ("", 1), ("", 2)]
    by_edge = {e["id"]: e["data"]["index"] for e in graph.edges if "data" in e}
    assert by_edge == {"e:@input->a": 0, "e:a->b": 1, "e:b->@result": 2}


def test_loop_has_labelled_end_node_and_body_between():
    graph = build_graph(doc(loop("each", [script("inner")], summary="Iterate contacts"), script("after")))
    end = graph.node("each:end")
    assert end["data"]["label"] == "end of loop: Iterate contacts"
    y = {n["id"]: n["position"]["y"] for n in graph.nodes}
    assert y["each"] < y["inner"] < y["each:end"] < y["after"]
    edges = {(e["source"], e["target"]) for e in graph.edges}
    assert {("each", "inner"), ("inner", "each:end"), ("each:end", "after")} <= edges
    assert graph.node("inner")["data"]["container"] == "each"
    inner_slots = [s for s in graph.slots if s["container"] == "each"]
    assert [s["index"] for s in inner_slots] == [0, 1]
    assert all(s["ancestors"] == ["each"] for s in inner_slots)


def test_empty_loop_still_has_a_slot_inside():
    graph = build_graph(doc(loop("each", [])))
    assert ("each", 0) in [(s["container"], s["index"]) for s in graph.slots]
    assert ("each", "each:end") in {(e["source"], e["target"]) for e in graph.edges}


def test_branches_are_side_by_side_columns_with_labels():
    graph = build_graph(doc(branchone("route", [[script("x")], [script("y")]], [script("z")])))
    labels = [graph.node(f"route:branch:{k}")["data"]["label"] for k in ("0", "1", "default")]
    assert labels == ["Branch 1", "Branch 2", "Default"]
    xs = [graph.node(i)["position"]["x"] for i in ("x", "y", "z")]
    assert xs == sorted(xs) and len(set(xs)) == 3
    assert graph.node("route:end")["data"]["label"] == "end of branches: Branch to one"
    edges = {(e["source"], e["target"]) for e in graph.edges}
    assert {("x", "route:end"), ("y", "route:end"), ("z", "route:end")} <= edges


def test_nested_loop_in_branch_in_loop():
    inner = loop("inner", [script("deep")])
    graph = build_graph(doc(loop("outer", [branchone("pick", [[inner]], [])])))
    deep_slots = [s for s in graph.slots if s["container"] == "inner"]
    assert deep_slots and deep_slots[0]["ancestors"] == ["outer", "pick", "inner"]
    y = {n["id"]: n["position"]["y"] for n in graph.nodes}
    assert y["outer"] < y["pick"] < y["inner"] < y["deep"] < y["inner:end"] < y["pick:end"] < y["outer:end"]


def test_data_edges_follow_results_references():
    graph = build_graph(doc(script("a"), script("b", x="results.a.items"),
                            loop("c", [script("d", v='results["b"] + flow_input.iter.value')])))
    data = sorted((e["source"], e["target"]) for e in graph.edges if e["id"].startswith("d:"))
    assert data == [("a", "b"), ("b", "d")]


def test_referenced_steps_cover_iterator_branch_and_predicates():
    module = loop("l", [])
    module["value"]["iterator"] = js("results.src")
    module["skip_if"] = {"expr": "results.flag.off"}
    assert referenced_steps(module) == {"src", "flag"}


@pytest.mark.parametrize("name", ["crm_sync", "etl_daily", "expense_approval"])
def test_example_flows_lay_out_without_overlap(name):
    document = yaml.safe_load((EXAMPLES / f"{name}.flow.yaml").read_text())
    graph = build_graph(document)
    boxes = [(n["position"]["x"], n["position"]["y"], n["data"]["height"]) for n in graph.nodes
             if n["type"] != "frame"]
    for i, (x1, y1, h1) in enumerate(boxes):
        for x2, y2, h2 in boxes[i + 1:]:
            assert abs(x1 - x2) >= 240 or y1 + h1 <= y2 or y2 + h2 <= y1
    assert set(step_ids(document)) <= {n["id"] for n in graph.nodes}


# ---- drop targets ---------------------------------------------------------------------------

def test_drop_lands_in_the_nearest_slot():
    graph = build_graph(doc(script("a"), loop("l", [script("b")]), script("c")))
    b = graph.node("b")["position"]
    target = drop_target(graph.slots, b["x"] + 120, b["y"] - 10)
    assert (target["container"], target["index"]) == ("l", 0)
    end = graph.node("l:end")["position"]
    target = drop_target(graph.slots, end["x"] + 120, end["y"] + 40)
    assert (target["container"], target["index"]) == ("", 2)


def test_moving_a_step_ignores_its_own_slots_and_its_inside():
    graph = build_graph(doc(script("a"), loop("l", [script("b")]), script("c")))
    moving = graph.node("l")["data"]
    pos = graph.node("b")["position"]
    target = drop_target(graph.slots, pos["x"] + 120, pos["y"], moving=moving)
    assert target["container"] == "" and target["index"] not in (1, 2)


# ---- edits ---------------------------------------------------------------------------------

def test_palette_kinds_all_make_valid_steps():
    from engine import check_flow, flow_from_data

    modules = [new_module(kind, f"s{i}", script_path="f/examples/order_quote") for i, (kind, _) in enumerate(PALETTE)]
    check_flow(flow_from_data(doc(*modules)))


def test_new_ids_follow_windmill_letters():
    document = doc(script("a"), script("b"), loop("c", [script("d")]))
    assert next_step_id(document) == "e"
    many = doc(*[script(chr(ord("a") + i)) for i in range(26)])
    assert next_step_id(many) == "aa"


def test_insert_into_loop_and_branch_and_root():
    document = doc(script("a"), loop("l", []), branchone("br", [[]], []))
    document, new = insert_step(document, "bash", "l", 0)
    assert ids_in(document, "l") == [new]
    document, second = insert_step(document, "identity", "br/0", 0)
    document, third = insert_step(document, "forloop", "br/default", 5)
    document, fourth = insert_step(document, "python", "", 1)
    assert ids_in(document, "br/0") == [second] and ids_in(document, "br/default") == [third]
    assert ids_in(document) == ["a", fourth, "l", "br"]


def test_edits_do_not_change_their_input():
    document = doc(script("a"), script("b"))
    before = copy.deepcopy(document)
    insert_step(document, "python", "", 0)
    delete_step(document, "a")
    move_step(document, "a", "", 2)
    rename_step(document, "a", "z")
    assert document == before


def test_insert_into_unknown_container_fails():
    with pytest.raises(EditError, match="no step list"):
        insert_step(doc(script("a")), "python", "nope", 0)


def test_move_down_counts_positions_before_the_move():
    document = doc(script("a"), script("b"), script("c"))
    assert ids_in(move_step(document, "a", "", 2)) == ["b", "a", "c"]
    assert ids_in(move_step(document, "a", "", 3)) == ["b", "c", "a"]
    assert ids_in(move_step(document, "c", "", 0)) == ["c", "a", "b"]


def test_move_into_and_out_of_a_loop():
    document = doc(script("a"), loop("l", [script("b")]))
    inside = move_step(document, "a", "l", 1)
    assert ids_in(inside) == ["l"] and ids_in(inside, "l") == ["b", "a"]
    out = move_step(inside, "b", "", 1)
    assert ids_in(out) == ["l", "b"] and ids_in(out, "l") == ["a"]


def test_a_step_cannot_move_inside_itself():
    document = doc(loop("outer", [loop("inner", [])]))
    with pytest.raises(EditError, match="inside itself"):
        move_step(document, "outer", "inner", 0)


def test_delete_removes_the_step_and_its_contents():
    document = doc(script("a"), loop("l", [script("b")]))
    after = delete_step(document, "l")
    assert step_ids(after) == ["a"]
    with pytest.raises(EditError, match="no step has id"):
        delete_step(after, "l")


@pytest.mark.parametrize(("new_id", "problem"), [
    ("b", "already has id"),
    ("1x", "letters, digits"),
    ("has-dash", "letters, digits"),
    ("", "needs an id"),
    ("return", "reserved"),
    ("failure", "reserved"),
    ("fine_id", None),
    ("a", None),
])
def test_id_validation(new_id, problem):
    found = id_problem(doc(script("a"), script("b")), "a", new_id)
    assert (found is None) if problem is None else (problem in found)


def test_rename_rewrites_references():
    document = doc(script("a"), script("b", x='results.a.total + results["a"].n'), loop("l", []))
    document["value"]["modules"][2]["value"]["iterator"] = js("results.a.items")
    document["value"]["modules"][1]["skip_if"] = {"expr": "results.ab == 1"}
    after = rename_step(document, "a", "source")
    b = find_step(after, "b")[2]
    assert b["value"]["input_transforms"]["x"]["expr"] == 'results.source.total + results["source"].n'
    assert b["skip_if"]["expr"] == "results.ab == 1"
    assert find_step(after, "l")[2]["value"]["iterator"]["expr"] == "results.source.items"


def test_rename_refuses_bad_ids():
    with pytest.raises(EditError, match="reserved"):
        rename_step(doc(script("a")), "a", "class")


def test_steps_before_are_the_readable_results():
    document = doc(script("a"), loop("l", [script("b"), script("c")]), script("d"))
    assert steps_before(document, "c") == ["a", "b"]
    assert steps_before(document, "d") == ["a", "l"]
    assert steps_before(document, "a") == []


def test_error_handler_is_drawn_apart_and_can_be_deleted_not_moved():
    document = doc(script("a"))
    document["value"]["failure_module"] = script("failure")
    graph = build_graph(document)
    node = graph.node("failure")
    assert node["data"]["label"].startswith("Error handler") and not node["draggable"]
    assert node["position"]["y"] > graph.node(RESULT_ID)["position"]["y"]
    assert "failure_module" not in delete_step(document, "failure")["value"]
    with pytest.raises(EditError, match="stay where they are"):
        move_step(document, "failure", "", 0)


def test_early_reads_name_each_step_that_reads_a_result_it_cannot_have_yet():
    from app.views.flow_ops import early_reads, move_step

    def expr(text: str) -> dict:
        return {"type": "javascript", "expr": text}

    document = {"value": {"modules": [
        {"id": "a", "value": {"type": "identity"}},
        {"id": "each", "value": {"type": "forloopflow", "iterator": expr("results.a"),
                                 "modules": [{"id": "b", "value": {"type": "identity"}}]}},
        {"id": "c", "value": {"type": "rawscript", "language": "python3", "content": "",
                              "input_transforms": {"x": expr("results['each'].length + results.a")}}},
    ]}}
    assert early_reads(document) == []
    assert early_reads(move_step(document, "a", "each", 0)) == [  # in the flow's order
        "step each reads results.a, which has not run when each starts (it runs later, inside each, or in a "
        "branch or loop of its own)",
        "step c reads results.a, which has not run when c starts (it runs later, inside c, or in a branch or "
        "loop of its own)",
    ]
    assert early_reads(move_step(document, "c", "", 0)) == [
        "step c reads results.a, which has not run when c starts (it runs later, inside c, or in a branch or "
        "loop of its own)",
        "step c reads results.each, which has not run when c starts (it runs later, inside c, or in a branch or "
        "loop of its own)",
    ]
