"""Seeded ONNX graphs for the synthetic model generators, built with onnx.helper only.

A ``Graph`` collects nodes and initializers under names made from a stem and a counter, so
that one seed gives one byte sequence: ``serialize`` writes the model deterministically
after onnx's checker accepted it. ``write_model`` writes ``model.onnx`` and a
``model.json`` that describes it (the generator's fields, then its size and sha256).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

IR_VERSION = 8  # the IR version of opset 17, which every generator here targets


class Graph:
    """Nodes and initializers of one ONNX graph, named in order."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.nodes: list[object] = []
        self.weights: list[object] = []
        self.count = 0

    def name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}_{self.count}"

    def const(self, stem: str, value: np.ndarray) -> str:
        """An initializer holding ``value`` as it is (its dtype is the tensor's)."""
        from onnx import numpy_helper

        name = self.name(stem)
        self.weights.append(numpy_helper.from_array(value, name))
        return name

    def op(self, kind: str, inputs: list[str], out: str | None = None, **attrs: object) -> str:
        """A node of ``kind``; its one output is ``out``, or a fresh name."""
        from onnx import helper

        out = out or self.name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def serialize(
        self,
        name: str,
        inputs: Sequence[Any],
        outputs: Sequence[Any],
        opset: int,
        full_check: bool = False,
    ) -> bytes:
        """The checked model, serialized deterministically (``inputs``/``outputs`` are
        ``helper.make_tensor_value_info`` values)."""
        import onnx
        from onnx import helper

        graph = helper.make_graph(self.nodes, name, list(inputs), list(outputs), self.weights)
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="cmpkg"
        )
        model.ir_version = IR_VERSION
        onnx.checker.check_model(model, full_check=full_check)
        data: bytes = model.SerializeToString(deterministic=True)
        return data


def write_model(out: Path, data: bytes, meta: dict[str, object]) -> Path:
    """Write ``out/model.onnx`` and ``out/model.json`` (``meta`` plus size and sha256)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "model.onnx"
    path.write_bytes(data)
    described = {**meta, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (out / "model.json").write_text(json.dumps(described, indent=2) + "\n")
    return path
