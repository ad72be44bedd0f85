"""The YAML parser: ``yaml.safe_load`` semantics, with bounds on what aliases may build.

A few hundred bytes of nested aliases ("billion laughs") expand to billions of values once a
row is copied, validated or stored; the loader measures the expanded size of the node graph
before constructing anything and refuses a file over the bounds (issue 11, item 3).
"""

from __future__ import annotations

from typing import Any

import yaml

from pytest_datasetrun.data.limits import MAX_DEPTH
from pytest_datasetrun.data.parsed import Parsed, from_document
from pytest_datasetrun.errors import DatasetError

__all__ = ("parse_yaml", "MAX_ALIASES", "MAX_EXPANDED_NODES")

MAX_ALIASES = 100_000
# Nodes the document would have with every alias copied out, beyond the nodes written.
MAX_EXPANDED_NODES = 1_000_000


class _Limit(Exception):
    def __init__(self, message: str, line: int | None, field: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.field = field


class _BoundedLoader(yaml.SafeLoader):
    """``SafeLoader`` that counts aliases and depth while composing, and refuses duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                line = self.peek_event().start_mark.line + 1
                raise _Limit(f"more than {MAX_ALIASES} aliases (*name)", line)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Limit(
                    f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark.line + 1
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)):
                    continue  # an unhashable key is the constructor's own error
                if key in seen:
                    raise _Limit(
                        "duplicate key (a key may appear once per mapping)",
                        key_node.start_mark.line + 1,
                        str(key),
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str, shown: str) -> Parsed:
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise DatasetError(shown, "the file is empty: a YAML dataset is a list of rows")
        _check_expansion(node)
        document = loader.construct_document(node)
    except _Limit as exc:
        raise DatasetError(shown, str(exc), line=exc.line, field=exc.field) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise DatasetError(
            shown, f"invalid YAML: {problem}", line=mark.line + 1 if mark else None
        ) from None
    except ValueError as exc:  # an integer over sys.get_int_max_str_digits() digits
        raise DatasetError(shown, f"cannot read a value: {exc}") from None
    finally:
        loader.dispose()
    return from_document(document, shown, lines=_row_lines(node))


def _check_expansion(root: Any) -> None:
    """Count the nodes of the fully expanded document, each shared node once per use."""
    sizes: dict[int, int] = {}
    distinct = 0
    # Post-order walk with an explicit stack; a node on the current path again is a cycle.
    stack: list[tuple[Any, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] - distinct > MAX_EXPANDED_NODES:
                raise _Limit(
                    f"aliases would expand this document to more than {MAX_EXPANDED_NODES:,} "
                    "values (an alias bomb?)",
                    node.start_mark.line + 1,
                )
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise _Limit("an alias refers to the node that contains it", node.start_mark.line + 1)
        open_nodes.add(key)
        distinct += 1
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _children(node: Any) -> list[Any]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _row_lines(node: Any) -> list[int] | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "items":
                node = value
                break
    if isinstance(node, yaml.SequenceNode):
        return [child.start_mark.line + 1 for child in node.value]
    return None
