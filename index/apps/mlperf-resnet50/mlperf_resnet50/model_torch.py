"""ResNet-50 v1.5 in plain PyTorch, with torchvision's parameter names.

Loads the official MLPerf PyTorch weights (``resnet50-19c8e357.pth``, torchvision's
``state_dict``, 1000 classes) or the synthetic ``model.npz`` written by
``resnet50-synthetic/generate.py`` in the same naming, so torchvision is not needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

BLOCKS = (3, 4, 6, 3)
WIDTHS = (64, 128, 256, 512)
EXPANSION = 4


class Bottleneck(nn.Module):
    """v1.5: the stride sits on the 3x3 convolution."""

    def __init__(self, cin: int, width: int, stride: int) -> None:
        super().__init__()
        cout = width * EXPANSION
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample: nn.Module | None = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        result: torch.Tensor = self.relu(out + shortcut)
        return result


def make_layer(cin: int, width: int, count: int, stride: int) -> nn.Sequential:
    layers = [Bottleneck(cin, width, stride)]
    layers += [Bottleneck(width * EXPANSION, width, 1) for _ in range(count - 1)]
    return nn.Sequential(*layers)


class ResNet50(nn.Module):
    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        cin = 64
        for i, (count, width) in enumerate(zip(BLOCKS, WIDTHS, strict=True), start=1):
            setattr(self, f"layer{i}", make_layer(cin, width, count, 1 if i == 1 else 2))
            cin = width * EXPANSION
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(1, 5):
            x = getattr(self, f"layer{i}")(x)
        logits: torch.Tensor = self.fc(torch.flatten(self.avgpool(x), 1))
        return logits


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors from a ``.pth`` (a state_dict, or a whole pickled model) or an ``.npz``."""
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as npz:
            return {k: torch.from_numpy(npz[k].copy()) for k in npz.files}
    loaded = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(loaded, nn.Module):
        loaded = loaded.state_dict()
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: expected a state_dict, got {type(loaded).__name__}")
    return {k.removeprefix("module."): v for k, v in loaded.items()}


def load_resnet50(path: Path) -> ResNet50:
    """A ResNet-50 with the file's weights; the class count comes from ``fc.weight``."""
    state = read_state_dict(path)
    if "fc.weight" not in state:
        raise ValueError(f"{path}: no fc.weight; not a torchvision-style ResNet-50 state_dict")
    model = ResNet50(classes=int(state["fc.weight"].shape[0]))
    missing, unexpected = model.load_state_dict(state, strict=False)
    # Old torchvision files predate BatchNorm's num_batches_tracked buffer.
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"{path}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model.eval()


def _conv_bn_pairs(model: nn.Module) -> list[tuple[nn.Module, str, str]]:
    """(parent, conv attribute, bn attribute) for every convolution followed by a BN."""
    pairs: list[tuple[nn.Module, str, str]] = [(model, "conv1", "bn1")]
    for module in model.modules():
        if isinstance(module, Bottleneck):
            pairs += [(module, f"conv{i}", f"bn{i}") for i in (1, 2, 3)]
            if module.downsample is not None:
                pairs.append((module.downsample, "0", "1"))
    return pairs


def fold_batchnorm(model: ResNet50) -> ResNet50:
    """Fold each inference-mode BatchNorm into the convolution before it (in place).

    Halves the number of kernels per forward pass, which is what bounds small batches
    (Server, SingleStream) on a fast GPU; the arithmetic is the same up to rounding.
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for parent, conv_name, bn_name in _conv_bn_pairs(model):
        conv, bn = getattr(parent, conv_name), getattr(parent, bn_name)
        if isinstance(bn, nn.BatchNorm2d):
            setattr(parent, conv_name, fuse_conv_bn_eval(conv, bn))
            setattr(parent, bn_name, nn.Identity())
    return model
