"""An image to the model's square input, and boxes from that input back to the image.

The rules of Ultralytics' ``LetterBox`` for a fixed-size (exported) model: scale by
``min(640 / h, 640 / w)`` keeping the aspect ratio, resize bilinearly, centre the result on
a 640 x 640 canvas of grey 114, with the odd pixel of padding on the bottom/right side.
Resizing is Pillow's bilinear filter where Ultralytics calls OpenCV's INTER_LINEAR (pixel
values can differ by a grey level or so; docs/mlperf.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coco_detection import INPUT_SIZE

PAD_VALUE = 114


@dataclass(frozen=True, slots=True)
class Geometry:
    """Where an image of ``height`` x ``width`` lies on the square input."""

    height: int
    width: int
    size: int = INPUT_SIZE

    @property
    def gain(self) -> float:
        return min(self.size / self.height, self.size / self.width)

    @property
    def resized(self) -> tuple[int, int]:
        """(width, height) of the scaled image."""
        return round(self.width * self.gain), round(self.height * self.gain)

    @property
    def offset(self) -> tuple[int, int]:
        """(left, top) padding, the half-pixel going to the right/bottom."""
        w, h = self.resized
        return round((self.size - w) / 2 - 0.1), round((self.size - h) / 2 - 0.1)


def letterbox(path: Path) -> tuple[np.ndarray, Geometry]:
    """The image at ``path`` as uint8 [3, 640, 640] RGB, and its geometry."""
    from PIL import Image

    with Image.open(path) as opened:
        image = opened.convert("RGB")
    geometry = Geometry(image.height, image.width)
    if geometry.resized != (image.width, image.height):
        image = image.resize(geometry.resized, Image.Resampling.BILINEAR)
    canvas = np.full((geometry.size, geometry.size, 3), PAD_VALUE, dtype=np.uint8)
    left, top = geometry.offset
    canvas[top : top + image.height, left : left + image.width] = np.asarray(image)
    return np.ascontiguousarray(canvas.transpose(2, 0, 1)), geometry


def to_image(boxes: np.ndarray, geometry: Geometry) -> np.ndarray:
    """xyxy boxes on the square input -> xyxy boxes in image pixels, clipped to it."""
    left, top = geometry.offset
    out = (boxes - np.array([left, top, left, top], dtype=boxes.dtype)) / geometry.gain
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, geometry.width)
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, geometry.height)
    return out
