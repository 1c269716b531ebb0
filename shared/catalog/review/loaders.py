"""YAML/JSON loading that keeps line numbers, CloudFormation short tags included."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import yaml

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCALARS = yaml.constructor.SafeConstructor()


class LDict(dict[str, Any]):
    """A mapping that remembers its line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def __init__(self) -> None:
        super().__init__()
        self.key_lines = {}


class LList(list[Any]):
    line: int = 0
    item_lines: list[int]

    def __init__(self) -> None:
        super().__init__()
        self.item_lines = []


def _tag_value(tag: str, value: Any) -> Any:
    name = tag.lstrip("!")
    if name == "Ref":
        return {"Ref": value}
    if name == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    if name == "Condition":
        return {"Condition": value}
    return {f"Fn::{name}": value}


def _convert(node: yaml.Node, memo: dict[int, Any]) -> Any:
    if id(node) in memo:
        return memo[id(node)]
    custom = node.tag.startswith("!")
    if isinstance(node, yaml.MappingNode):
        out = LDict()
        out.line = node.start_mark.line + 1
        memo[id(node)] = out
        for key_node, value_node in node.value:
            key = _convert(key_node, memo)
            key = key if isinstance(key, str) else str(key)
            out[key] = _convert(value_node, memo)
            out.key_lines[key] = key_node.start_mark.line + 1
        return _tag_value(node.tag, out) if custom else out
    if isinstance(node, yaml.SequenceNode):
        items = LList()
        items.line = node.start_mark.line + 1
        memo[id(node)] = items
        for item in node.value:
            items.append(_convert(item, memo))
            items.item_lines.append(item.start_mark.line + 1)
        return _tag_value(node.tag, items) if custom else items
    if custom:
        return _tag_value(node.tag, node.value)
    if node.tag.endswith(":bool") and node.value.lower() not in ("true", "false"):
        return node.value  # YAML 1.2 (CloudFormation, js-yaml): yes/no/on/off are strings
    if node.tag.endswith((":int", ":float")) and ":" in node.value:
        return node.value  # no sexagesimal numbers either
    try:
        return _SCALARS.construct_object(node, deep=True)
    except yaml.YAMLError:
        return node.value


def load_yaml(text: str) -> Any:
    """Parse YAML (or JSON) keeping lines; raises yaml.YAMLError on bad input."""
    node = yaml.compose(text, Loader=_Loader)
    return None if node is None else _convert(node, {})


def load_json(text: str) -> Any:
    """Strict JSON values (raises ValueError), with line numbers taken from a YAML parse."""
    data = json.loads(text)
    try:
        with_lines = load_yaml(text)
    except yaml.YAMLError:
        return data
    return _with_lines(data, with_lines)


def _with_lines(data: Any, shape: Any) -> Any:
    if isinstance(data, dict) and isinstance(shape, LDict):
        out = LDict()
        out.line = shape.line
        for key, value in data.items():
            out[key] = _with_lines(value, shape.get(key))
            if key in shape.key_lines:
                out.key_lines[key] = shape.key_lines[key]
        return out
    if isinstance(data, list) and isinstance(shape, LList) and len(shape) == len(data):
        items = LList()
        items.line = shape.line
        items.extend(_with_lines(v, s) for v, s in zip(data, shape, strict=True))
        items.item_lines = list(shape.item_lines)
        return items
    return data


def line_at(root: Any, path: Sequence[str | int]) -> int | None:
    """Line of the deepest element of `path` that exists under `root`."""
    line = getattr(root, "line", None) or None
    node = root
    for part in path:
        if isinstance(node, LDict) and isinstance(part, str) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
    return line


def key_line(mapping: Any, key: str) -> int | None:
    if isinstance(mapping, LDict):
        return mapping.key_lines.get(key, mapping.line or None)
    return None
