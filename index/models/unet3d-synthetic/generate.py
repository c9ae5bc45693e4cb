"""A small 3D-UNet for KiTS19 segmentation with random weights from a seed, in ONNX.

The reference model's architecture (nnU-Net style, as MLPerf's 3D-UNet) at reduced width
and depth: an encoder of 3x3x3 convolution blocks (convolution, instance normalisation,
leaky ReLU 0.01, twice; each level after the first starts with a stride-2 convolution),
a decoder of 2x2x2 stride-2 transposed convolutions each concatenated with the encoder's
skip connection at that level and followed by a block, and a 1x1x1 convolution to the 3
KiTS19 classes (background, kidney, tumour). The interface is that of MLCommons'
``3dunet_kits19_128x128x128_dynbatch.onnx``: input ``input`` float32 [N, 1, R, R, R],
output ``output`` float32 [N, 3, R, R, R], with R the window edge (``--roi``, 32 here where
the official model has 128). Weights are He-normal from numpy's seeded PCG64; the output
layer's bias centres each class score on the features' expected value (a leaky ReLU of a
normalised activation), so no class wins everywhere. Also writes ``model.json``.
Built with numpy and onnx.helper only (no torch); byte-identical for one seed.
Exit 0 on success, 2 on bad flags.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import onnx_graph

OPSET = 17
CLASSES = 3
LEAK = 0.01
# E[leaky_relu(z)] for z ~ N(0, 1): (1 - LEAK) / sqrt(2 pi)
FEATURE_MEAN = (1 - LEAK) / math.sqrt(2 * math.pi)


class Graph(onnx_graph.Graph):
    """The shared graph, with this model's layers; every initializer is float32."""

    def const(self, stem: str, value: np.ndarray) -> str:
        return super().const(stem, value.astype(np.float32))

    def he(self, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        return self.rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)

    def conv(self, x: str, cin: int, cout: int, stride: int = 1) -> str:
        w = self.const("conv_w", self.he((cout, cin, 3, 3, 3), cin * 27))
        b = self.const("conv_b", np.zeros(cout))
        return self.op(
            "Conv", [x, w, b], kernel_shape=[3, 3, 3], pads=[1] * 6, strides=[stride] * 3
        )

    def norm_act(self, x: str, channels: int) -> str:
        scale = self.const("in_scale", np.ones(channels))
        bias = self.const("in_bias", np.zeros(channels))
        normed = self.op("InstanceNormalization", [x, scale, bias], epsilon=1e-5)
        return self.op("LeakyRelu", [normed], alpha=LEAK)

    def block(self, x: str, cin: int, cout: int, stride: int = 1) -> str:
        x = self.norm_act(self.conv(x, cin, cout, stride), cout)
        return self.norm_act(self.conv(x, cout, cout), cout)

    def up(self, x: str, cin: int, cout: int) -> str:
        w = self.const("up_w", self.he((cin, cout, 2, 2, 2), cin * 8))
        b = self.const("up_b", np.zeros(cout))
        return self.op("ConvTranspose", [x, w, b], kernel_shape=[2, 2, 2], strides=[2, 2, 2])


def build(seed: int, roi: int, widths: list[int]) -> bytes:
    from onnx import TensorProto, helper

    g = Graph(np.random.default_rng(seed))
    skips: list[str] = []
    x, cin = "input", 1
    for level, width in enumerate(widths):
        x = g.block(x, cin, width, stride=1 if level == 0 else 2)
        skips.append(x)
        cin = width
    for level in range(len(widths) - 2, -1, -1):
        width = widths[level]
        x = g.up(x, cin, width)
        x = g.op("Concat", [x, skips[level]], axis=1)
        x = g.block(x, 2 * width, width)
        cin = width
    w = g.rng.standard_normal((CLASSES, cin))
    bias = -w.sum(axis=1) * FEATURE_MEAN
    g.op(
        "Conv",
        [x, g.const("out_w", w.reshape(CLASSES, cin, 1, 1, 1)), g.const("out_b", bias)],
        out="output",
        kernel_shape=[1, 1, 1],
    )
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, roi, roi, roi])]
    outputs = [
        helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", CLASSES, roi, roi, roi])
    ]
    return g.serialize("unet3d_synthetic", inputs, outputs, OPSET, full_check=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--roi", type=int, default=32, help="window edge (voxels)")
    p.add_argument(
        "--widths", default="4,8,16", help="channels per level, comma-separated (default 4,8,16)"
    )
    args = p.parse_args(argv)
    try:
        widths = [int(w) for w in args.widths.split(",")]
    except ValueError:
        widths = []
    levels = len(widths)
    if levels < 2 or min(widths) < 1 or args.roi % (2 ** (levels - 1)):
        print(
            "error: --widths needs 2 or more positive widths, and --roi must be divisible "
            "by 2^(levels - 1); hint: --roi 32 --widths 4,8,16",
            file=sys.stderr,
        )
        return 2
    data = build(args.seed, args.roi, widths)
    meta = {
        "architecture": "3d-unet",
        "seed": args.seed,
        "roi": [args.roi] * 3,
        "widths": widths,
        "classes": CLASSES,
    }
    print(onnx_graph.write_model(args.out, data, meta))
    return 0


if __name__ == "__main__":
    sys.exit(main())
