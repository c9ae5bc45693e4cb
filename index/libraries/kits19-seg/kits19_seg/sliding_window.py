"""Sliding-window inference over a preprocessed volume, as the reference's ``base_SUT.py``
and ``inference_utils.py`` define it.

Windows of the ROI shape start every stride (ROI x (1 - overlap)) along each axis, as many
as fit. Each window's 3-class output is weighted by the Gaussian importance patch and added
into the volume's result, the patch itself into a normalisation map; the result divided by
the map, then the argmax over the classes, is the uint8 segmentation. The patch is the
reference's: a Gaussian window of standard deviation ROI/8 per axis (scipy.signal's
``gaussian(n, std)``), their outer product, its cube root, scaled to a maximum of 1.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import numpy as np

from kits19_seg.preprocess import Geometry

CLASSES = 3  # background, kidney, tumour
SIGMA_FRACTION = 0.125


def gaussian_1d(n: int, std: float) -> np.ndarray:
    k = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    out: np.ndarray = np.exp(-0.5 * (k / std) ** 2)
    return out


def importance(roi: tuple[int, int, int]) -> np.ndarray:
    """The Gaussian importance patch, float32 of the ROI's shape, maximum 1."""
    a, b, c = (gaussian_1d(n, SIGMA_FRACTION * roi[0]) for n in roi)
    patch = np.cbrt(a[:, None, None] * b[None, :, None] * c[None, None, :])
    out: np.ndarray = (patch / patch.max()).astype(np.float32)
    return out


def starts(shape: tuple[int, ...], geometry: Geometry) -> Iterator[tuple[int, ...]]:
    """Each window's corner, in the reference's order (depth, then height, then width)."""
    axes = [
        range(0, s * ((n - r) // s + 1), s)
        for n, r, s in zip(shape, geometry.roi, geometry.strides, strict=True)
    ]
    yield from itertools.product(*axes)


def segment(
    image: np.ndarray,
    geometry: Geometry,
    infer: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """``image`` float32 [1, D, H, W]; ``infer`` maps a [1, 1, *roi] window to its
    [1, 3, *roi] (or [3, *roi]) class scores. Returns the uint8 labels [D, H, W]."""
    shape = image.shape[1:]
    result = np.zeros((CLASSES, *shape), dtype=np.float32)
    norm = np.zeros_like(result)
    patch = importance(geometry.roi)
    rd, rh, rw = geometry.roi
    for i, j, k in starts(shape, geometry):
        box = (slice(i, i + rd), slice(j, j + rh), slice(k, k + rw))
        window = np.ascontiguousarray(image[(slice(None), *box)][np.newaxis])
        scores = np.asarray(infer(window), dtype=np.float32).reshape(CLASSES, rd, rh, rw)
        result[(slice(None), *box)] += scores * patch
        norm[(slice(None), *box)] += patch
    result /= norm
    labels: np.ndarray = np.argmax(result, axis=0).astype(np.uint8)
    return labels
