"""Reading infra/template.yaml: CloudFormation YAML (short-form tags) and a few intrinsics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "template.yaml"


class _Loader(yaml.SafeLoader):
    """SafeLoader that turns ``!Ref x`` into ``{"Ref": "x"}`` and ``!Sub s`` into
    ``{"Fn::Sub": "s"}`` (``!GetAtt a.b`` into ``{"Fn::GetAtt": ["a", "b"]}``)."""


def _tag(loader: _Loader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _tag)


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as the JSON-shaped dict CloudFormation sees."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506


def resolve(value: Any, refs: dict[str, Any], conditions: dict[str, bool]) -> Any:
    """``value`` with ``Ref``, ``Fn::Sub`` (plain ${Name}) and ``Fn::If`` resolved from
    ``refs`` (parameters, pseudo parameters and created resources) and ``conditions``."""
    if isinstance(value, list):
        return [resolve(v, refs, conditions) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return refs[value["Ref"]]
    if set(value) == {"Fn::Sub"}:
        text = value["Fn::Sub"]
        for name, ref in refs.items():
            text = text.replace("${" + name + "}", str(ref))
        if "${" in text:
            raise ValueError(f"cannot resolve {value['Fn::Sub']!r}")
        return text
    if set(value) == {"Fn::If"}:
        name, then, otherwise = value["Fn::If"]
        return resolve(then if conditions[name] else otherwise, refs, conditions)
    return {k: resolve(v, refs, conditions) for k, v in value.items()}
