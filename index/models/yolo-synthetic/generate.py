"""A tiny YOLO-style detector with random weights from a seed, in ONNX.

A real detection network at toy width: a backbone of five stride-2 3x3 convolutions with
SiLU (8, 16, 16, 32, 32 channels; 640 -> 20 pixels), and a YOLOv8/YOLO11-style anchor-free
head on the stride-8, -16 and -32 maps: per anchor, a 1x1 convolution gives the four box
sides as distributions over 16 bins (DFL: softmax, then the expected bin), another the 80
class logits (sigmoid). Sides are decoded around each anchor's centre and scaled by the
stride, so the output has the layout of an Ultralytics ONNX export of YOLO11: input
``images`` float32 [N, 3, 640, 640] (RGB / 255), output ``output0`` float32 [N, 84, 8400]
(cx, cy, w, h in input pixels, then 80 class scores). The class biases are negative, so
as with a trained detector few anchors score high. Built with numpy and onnx.helper only
(no torch); byte-identical for one seed. Writes ``model.onnx`` and ``model.json``.
Exit 0 on success, 2 on bad flags.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx_graph

SIZE = 640
CLASSES = 80
BINS = 16
STRIDES = (8, 16, 32)
WIDTHS = (8, 16, 16, 32, 32)  # backbone channels; maps 2..4 are the stride 8/16/32 levels
OPSET = 17


class Graph(onnx_graph.Graph):
    """The shared graph, with this model's layers."""

    def conv(
        self,
        x: str,
        c_in: int,
        c_out: int,
        k: int,
        stride: int,
        bias: float = 0.0,
        gain: float = 1.0,
    ) -> str:
        std = gain * np.sqrt(2.0 / (c_in * k * k))  # He initialisation, times the gain
        w = (self.rng.standard_normal((c_out, c_in, k, k)) * std).astype(np.float32)
        b = np.full(c_out, bias, np.float32)
        pads = [k // 2] * 4
        return self.op(
            "Conv",
            [x, self.const("w", w), self.const("b", b)],
            kernel_shape=[k, k],
            strides=[stride, stride],
            pads=pads,
        )

    def norm(self, x: str, channels: int) -> str:
        """Per-image, per-channel normalisation (where a trained YOLO has batch norm)."""
        scale = self.const("scale", np.ones(channels, np.float32))
        shift = self.const("shift", np.zeros(channels, np.float32))
        return self.op("InstanceNormalization", [x, scale, shift], epsilon=1e-5)

    def silu(self, x: str) -> str:
        return self.op("Mul", [x, self.op("Sigmoid", [x])])


def anchors() -> tuple[np.ndarray, np.ndarray]:
    """Anchor centres [2, 8400] in grid units and each one's stride [1, 8400]."""
    points, strides = [], []
    for stride in STRIDES:
        side = SIZE // stride
        ys, xs = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
        points.append(np.stack([xs.ravel(), ys.ravel()]) + 0.5)
        strides.append(np.full(side * side, stride))
    return (
        np.concatenate(points, axis=1).astype(np.float32),
        np.concatenate(strides)[None].astype(np.float32),
    )


def head(g: Graph, x: str, width: int, class_bias: float, class_gain: float) -> tuple[str, str]:
    """One level: DFL box sides [N, 4, HW] (grid units) and class scores [N, 80, HW]."""
    bins = g.op(
        "Reshape", [g.conv(x, width, 4 * BINS, 1, 1), g.const("s", np.array([0, 4, BINS, -1]))]
    )
    probs = g.op("Softmax", [bins], axis=2)
    expected = g.op(
        "Mul", [probs, g.const("bins", np.arange(BINS, dtype=np.float32).reshape(1, 1, BINS, 1))]
    )
    sides = g.op("ReduceSum", [expected, g.const("axis", np.array([2]))], keepdims=0)
    logits = g.conv(x, width, CLASSES, 1, 1, bias=class_bias, gain=class_gain)
    scores = g.op("Sigmoid", [g.op("Reshape", [logits, g.const("s", np.array([0, CLASSES, -1]))])])
    return sides, scores


def decode(g: Graph, sides: str, scores: str) -> str:
    """Sides (left, top, right, bottom) around each anchor -> cx, cy, w, h in pixels."""
    points, strides = anchors()

    def part(start: int) -> str:
        return g.op(
            "Slice",
            [
                sides,
                g.const("b", np.array([start])),
                g.const("e", np.array([start + 2])),
                g.const("a", np.array([1])),
            ],
        )

    near, far = part(0), part(2)
    half = g.const("half", np.array(0.5, np.float32))
    centre = g.op(
        "Add", [g.const("anchors", points), g.op("Mul", [g.op("Sub", [far, near]), half])]
    )
    stride = g.const("strides", strides)
    box = g.op(
        "Concat",
        [g.op("Mul", [centre, stride]), g.op("Mul", [g.op("Add", [near, far]), stride])],
        axis=1,
    )
    return g.op("Concat", [box, scores], out="output0", axis=1)


def build(seed: int, class_bias: float, class_gain: float) -> bytes:
    from onnx import TensorProto, helper

    g = Graph(np.random.default_rng(seed))
    x, c_in, levels = "images", 3, []
    for i, width in enumerate(WIDTHS):
        x = g.silu(g.norm(g.conv(x, c_in, width, 3, 2), width))
        c_in = width
        if i >= 2:
            levels.append(head(g, x, width, class_bias, class_gain))
    sides = g.op("Concat", [s for s, _ in levels], axis=2)
    scores = g.op("Concat", [c for _, c in levels], axis=2)
    decode(g, sides, scores)
    anchors_total = sum((SIZE // s) ** 2 for s in STRIDES)
    inputs = [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, SIZE, SIZE])]
    shape = ["N", 4 + CLASSES, anchors_total]
    outputs = [helper.make_tensor_value_info("output0", TensorProto.FLOAT, shape)]
    return g.serialize("yolo_synthetic", inputs, outputs, OPSET)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--class-bias", type=float, default=-12.0, help="class logit bias")
    p.add_argument("--class-gain", type=float, default=1.5, help="class weights' scale")
    args = p.parse_args(argv)
    data = build(args.seed, args.class_bias, args.class_gain)
    meta = {
        "architecture": "yolo-style detector (conv backbone, DFL box head, sigmoid classes)",
        "seed": args.seed,
        "class_bias": args.class_bias,
        "class_gain": args.class_gain,
        "input": [3, SIZE, SIZE],
        "output": [4 + CLASSES, sum((SIZE // s) ** 2 for s in STRIDES)],
    }
    print(onnx_graph.write_model(args.out, data, meta))
    return 0


if __name__ == "__main__":
    sys.exit(main())
