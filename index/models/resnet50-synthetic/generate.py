"""Generate a synthetic ResNet-50 v1.5 with random weights from a seed.

Same architecture and tensor shapes as the MLPerf Inference ResNet-50 v1.5 models, so that
a benchmark run exercises the same compute; the weights are random, so accuracy is
meaningless (about 0.1% top-1). Two formats:

- ``onnx``: built with ``onnx.helper`` and numpy only, with the interface of the official
  ``resnet50_v1.onnx`` (input ``input_tensor:0`` float32 [N,3,224,224], outputs
  ``ArgMax:0`` int64 [N] and ``softmax_tensor:0`` float32 [N,1001]; class 0 is the
  background class of the TF-derived model, so the harness subtracts 1 from labels).
- ``pytorch``: an ``.npz`` in torchvision's ``state_dict`` naming with 1000 classes, like
  the official ``resnet50-19c8e357.pth``; written with numpy only, loaded by the harness's
  own torch ResNet-50 (``mlperf_resnet50/model_torch.py``).

Both formats draw the backbone from the seed first and the classifier last, so they share
every convolution and batch-norm tensor. Output is byte-identical for one seed: no
timestamps in the zip entries, no producer version in the ONNX model. This script must not
import cmpkg or torch: it runs in the environment cmpkg builds for the model.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

BLOCKS = (3, 4, 6, 3)
WIDTHS = (64, 128, 256, 512)
EXPANSION = 4
INPUT_STD = 60.0  # rough std of mean-subtracted pixels: the stem BN divides it out
RESIDUAL_GAMMA = 0.2  # last BN of each block: keeps the residual sum from growing
FC_STD = 0.01
IMAGENET_CLASSES = 1000
BACKGROUND_BIAS = -100.0
ONNX_OPSET = 11
ONNX_IR_VERSION = 6  # the IR version of opset 11: loadable by old onnxruntime releases
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class Conv:
    """One convolution followed by batch norm, named as in torchvision's ResNet."""

    conv: str
    bn: str
    cin: int
    cout: int
    kernel: int
    stride: int
    last_in_block: bool = False

    @property
    def pad(self) -> int:
        return self.kernel // 2


@dataclass(frozen=True, slots=True)
class Block:
    """A bottleneck; v1.5 puts the stride on the 3x3 convolution."""

    convs: tuple[Conv, Conv, Conv]
    downsample: Conv | None


def stem() -> Conv:
    return Conv("conv1", "bn1", 3, 64, 7, 2)


def blocks() -> Iterator[Block]:
    """The 16 bottlenecks of ResNet-50 in order."""
    cin = 64
    for layer, (count, width) in enumerate(zip(BLOCKS, WIDTHS, strict=True), start=1):
        for i in range(count):
            stride = 2 if i == 0 and layer > 1 else 1
            yield _block(f"layer{layer}.{i}", cin, width, stride)
            cin = width * EXPANSION


def _block(prefix: str, cin: int, width: int, stride: int) -> Block:
    cout = width * EXPANSION
    convs = (
        Conv(f"{prefix}.conv1", f"{prefix}.bn1", cin, width, 1, 1),
        Conv(f"{prefix}.conv2", f"{prefix}.bn2", width, width, 3, stride),
        Conv(f"{prefix}.conv3", f"{prefix}.bn3", width, cout, 1, 1, last_in_block=True),
    )
    down = None
    if stride != 1 or cin != cout:
        down = Conv(f"{prefix}.downsample.0", f"{prefix}.downsample.1", cin, cout, 1, stride)
    return Block(convs, down)


def all_convs() -> Iterator[Conv]:
    yield stem()
    for block in blocks():
        yield from block.convs
        if block.downsample is not None:
            yield block.downsample


def conv_weights(rng: np.random.Generator, conv: Conv) -> dict[str, np.ndarray]:
    """He-initialised weights and an inference-mode batch norm for one convolution."""
    fan_in = conv.cin * conv.kernel * conv.kernel
    shape = (conv.cout, conv.cin, conv.kernel, conv.kernel)
    weight = rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
    gamma = RESIDUAL_GAMMA if conv.last_in_block else 1.0
    var = INPUT_STD**2 if conv.conv == "conv1" else 1.0
    return {
        f"{conv.conv}.weight": weight,
        f"{conv.bn}.weight": np.full(conv.cout, gamma, np.float32),
        f"{conv.bn}.bias": np.zeros(conv.cout, np.float32),
        f"{conv.bn}.running_mean": np.zeros(conv.cout, np.float32),
        f"{conv.bn}.running_var": np.full(conv.cout, var, np.float32),
    }


def weights(seed: int, classes: int) -> dict[str, np.ndarray]:
    """All tensors in torchvision naming; the backbone is drawn first, the classifier last."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for conv in all_convs():
        out.update(conv_weights(rng, conv))
    features = WIDTHS[-1] * EXPANSION
    fc = rng.standard_normal((IMAGENET_CLASSES, features), dtype=np.float32)
    # Pooled features share a large positive mean; zero-sum rows cancel it, so that the
    # predicted class depends on the image instead of being one class for every input.
    fc = (fc - fc.mean(axis=1, keepdims=True, dtype=np.float32)) * np.float32(FC_STD)
    bias = np.zeros(IMAGENET_CLASSES, np.float32)
    if classes == IMAGENET_CLASSES + 1:
        # The TF-style background class 0 never wins, so ONNX class k+1 is torch class k
        # and both formats give the same labels after the harness's offsets (-1 and 0).
        fc = np.concatenate([np.zeros((1, features), np.float32), fc])
        bias = np.concatenate([np.array([BACKGROUND_BIAS], np.float32), bias])
    out["fc.weight"] = fc
    out["fc.bias"] = bias
    return out


# --- ONNX --------------------------------------------------------------------------------


def _onnx_conv_bn(conv: Conv, x: str, relu: bool) -> tuple[list[Any], str]:
    from onnx import helper

    y = f"{conv.bn}/out"
    nodes = [
        helper.make_node(
            "Conv",
            [x, f"{conv.conv}.weight"],
            [f"{conv.conv}/out"],
            name=conv.conv,
            kernel_shape=[conv.kernel, conv.kernel],
            strides=[conv.stride, conv.stride],
            pads=[conv.pad] * 4,
        ),
        helper.make_node(
            "BatchNormalization",
            [f"{conv.conv}/out"]
            + [f"{conv.bn}.{p}" for p in ("weight", "bias")]
            + [f"{conv.bn}.running_{p}" for p in ("mean", "var")],
            [y],
            name=conv.bn,
            epsilon=1e-5,
        ),
    ]
    if relu:
        nodes.append(helper.make_node("Relu", [y], [f"{conv.bn}/relu"], name=f"{conv.bn}/relu"))
        y = f"{conv.bn}/relu"
    return nodes, y


def _onnx_block(block: Block, x: str) -> tuple[list[Any], str]:
    from onnx import helper

    nodes: list[Any] = []
    y = x
    for conv in block.convs:
        new, y = _onnx_conv_bn(conv, y, relu=not conv.last_in_block)
        nodes += new
    shortcut = x
    if block.downsample is not None:
        new, shortcut = _onnx_conv_bn(block.downsample, x, relu=False)
        nodes += new
    name = block.convs[0].conv.rsplit(".", 1)[0]
    nodes.append(helper.make_node("Add", [y, shortcut], [f"{name}/add"], name=f"{name}/add"))
    nodes.append(helper.make_node("Relu", [f"{name}/add"], [f"{name}/out"], name=f"{name}/out"))
    return nodes, f"{name}/out"


def _onnx_head(x: str) -> list[Any]:
    from onnx import helper

    return [
        helper.make_node("GlobalAveragePool", [x], ["pool"], name="pool"),
        helper.make_node("Flatten", ["pool"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["softmax_tensor:0"], name="softmax", axis=1),
        helper.make_node("ArgMax", ["logits"], ["ArgMax:0"], name="argmax", axis=1, keepdims=0),
    ]


def onnx_nodes() -> list[Any]:
    from onnx import helper

    nodes, x = _onnx_conv_bn(stem(), "input_tensor:0", relu=True)
    nodes.append(
        helper.make_node(
            "MaxPool",
            [x],
            ["maxpool"],
            name="maxpool",
            kernel_shape=[3, 3],
            strides=[2, 2],
            pads=[1, 1, 1, 1],
        )
    )
    x = "maxpool"
    for block in blocks():
        new, x = _onnx_block(block, x)
        nodes += new
    return nodes + _onnx_head(x)


def onnx_model_bytes(seed: int, classes: int = 1001) -> bytes:
    """The serialized ONNX model; deterministic for one seed."""
    from onnx import TensorProto, helper, numpy_helper

    tensors = weights(seed, classes)
    graph = helper.make_graph(
        onnx_nodes(),
        "resnet50_v1.5_synthetic",
        [helper.make_tensor_value_info("input_tensor:0", TensorProto.FLOAT, ["N", 3, 224, 224])],
        [
            helper.make_tensor_value_info("ArgMax:0", TensorProto.INT64, ["N"]),
            helper.make_tensor_value_info("softmax_tensor:0", TensorProto.FLOAT, ["N", classes]),
        ],
        initializer=[numpy_helper.from_array(v, name=k) for k, v in tensors.items()],
    )
    model = helper.make_model(
        graph,
        producer_name="cmpkg-resnet50-synthetic",
        opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
    )
    model.ir_version = ONNX_IR_VERSION
    return bytes(model.SerializeToString(deterministic=True))


# --- npz ---------------------------------------------------------------------------------


def npz_bytes(tensors: dict[str, np.ndarray]) -> bytes:
    """An uncompressed ``.npz`` with fixed zip timestamps, so the bytes depend only on data."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, array in tensors.items():
            entry = io.BytesIO()
            np.lib.format.write_array(entry, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            zf.writestr(info, entry.getvalue())
    return buf.getvalue()


# --- CLI ---------------------------------------------------------------------------------


def model_bytes(fmt: str, seed: int) -> tuple[str, bytes, int]:
    """(file name, content, number of classes) for one format."""
    if fmt == "onnx":
        return "model.onnx", onnx_model_bytes(seed, 1001), 1001
    return "model.npz", npz_bytes(weights(seed, 1000)), 1000


def write(out: Path, fmt: str, seed: int) -> Path:
    """Write the model and model.json into ``out``; returns the model's path."""
    name, data, classes = model_bytes(fmt, seed)
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    path.write_bytes(data)
    meta = {
        "architecture": "resnet50-v1.5",
        "classes": classes,
        "file": name,
        "format": fmt,
        "input": "input_tensor:0 float32 [N,3,224,224]" if fmt == "onnx" else "[N,3,224,224]",
        "label_offset": -1 if classes == 1001 else 0,
        "seed": seed,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "synthetic": True,
    }
    (out / "model.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--format", choices=("onnx", "pytorch"), default="onnx")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    path = write(args.out, args.format, args.seed)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
