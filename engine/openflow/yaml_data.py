"""The YAML loader of flow documents: JSON data only, and no alias bombs (loaded only for
YAML documents, see loader.py)."""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError

MAX_ALIASED_NODES = 100_000
"""How many nodes aliases (`*name`) may add to a YAML document once expanded. A few
hundred bytes of nested aliases can stand for billions of nodes ("billion laughs")."""


class JsonDataLoader(yaml.SafeLoader):
    """SafeLoader that yields JSON data only, and refuses documents its aliases blow up.

    Flow documents are JSON: a date stays a string and `yes`/`no`/`on`/`off` stay strings
    (as in YAML 1.2, which Windmill's tooling writes), so a load/dump round trip keeps them.

    PyYAML shares an aliased node instead of copying it, but everything after the load
    (models, JSON, the store) walks the data as a tree; so the tree's size is counted on
    the shared node graph before anything is built from it.
    """

    def __init__(self, stream: str):
        super().__init__(stream)
        self.first_alias: Any = None

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.first_alias is None and self.check_event(yaml.AliasEvent):
            self.first_alias = self.peek_event().start_mark
        return super().compose_node(parent, index)

    def construct_document(self, node: Any) -> Any:
        if self.first_alias is not None:
            _check_expansion(node, self.first_alias)
        return super().construct_document(node)


def _check_expansion(root: yaml.Node, mark: Any) -> None:
    """Raise a YAML error when aliases make `root`'s tree too big, or make it a cycle."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise ConstructorError(None, None, "an alias refers to a node that contains it "
                                   "(a recursive document cannot be JSON)", mark)
        open_nodes.add(key)
        children = [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) \
            else node.value if isinstance(node, yaml.SequenceNode) else []
        sizes[key] = 1 + sum(size(child) for child in children)
        open_nodes.discard(key)
        return sizes[key]

    total = size(root)
    added = total - len(sizes)
    if added > MAX_ALIASED_NODES:
        raise ConstructorError(None, None, f"its aliases expand {len(sizes)} written nodes to {total:,}, "
                               f"more than {MAX_ALIASED_NODES:,} added nodes allowed "
                               "(write the repeated parts out, or repeat less)", mark)


JsonDataLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:timestamp",
                                                              "tag:yaml.org,2002:bool")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
JsonDataLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
