"""The reference's preprocessing of one KiTS19 case (``preprocess.py``, ``global_vars.py``).

1. resample image (linear) and label (nearest) to the target spacing 1.6 x 1.2 x 1.2 mm
   (skipped when the case already has it, as the reference does, to float32 precision);
2. clip intensities to [-79, 304] and normalise with mean 101.0 and std 76.9;
3. pad every axis to at least the ROI (edge values);
4. per axis, crop a remainder modulo the stride (ROI x (1 - overlap)) smaller than half a
   stride, else pad it up with -2.2 (label 0) to a whole stride, centred.

The image comes out as float32 [1, D, H, W] (the channel axis first), the label uint8
[D, H, W]; both have the same shape, a multiple of the stride and at least the ROI.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MEAN = 101.0
STD = 76.9
CLIP = (-79.0, 304.0)
PADDING = -2.2
TARGET_SPACING = (1.6, 1.2, 1.2)
ROI = (128, 128, 128)
OVERLAP = 0.5


@dataclass(frozen=True, slots=True)
class Geometry:
    """The sliding window's shape: ROI edge lengths and the overlap factor."""

    roi: tuple[int, int, int] = ROI
    overlap: float = OVERLAP

    @property
    def strides(self) -> tuple[int, int, int]:
        s = [int(r * (1 - self.overlap)) for r in self.roi]
        return (s[0], s[1], s[2])


def resample(
    image: np.ndarray, label: np.ndarray, spacing: tuple[float, float, float]
) -> tuple[np.ndarray, np.ndarray]:
    # Equal to float32 precision (a NIfTI header stores float32) counts as equal: the
    # reference compares exactly and would resample by a factor of 1 + 1e-8.
    if np.allclose(spacing, TARGET_SPACING, rtol=1e-6, atol=0.0):
        return image, label
    from scipy.ndimage import zoom  # only real data needs it

    factor = np.asarray(spacing) / np.asarray(TARGET_SPACING)
    image = zoom(image, factor, order=1, mode="constant", cval=float(image.min()), grid_mode=False)
    label = zoom(label, factor, order=0, mode="constant", cval=int(label.min()), grid_mode=False)
    return image.astype(np.float32), label.astype(np.uint8)


def normalise(image: np.ndarray) -> np.ndarray:
    clipped = np.clip(image, *CLIP)
    out: np.ndarray = ((clipped - MEAN) / STD).astype(np.float32)
    return out


def pad_to_roi(
    image: np.ndarray, label: np.ndarray, roi: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    short = [max(0, r - n) for r, n in zip(roi, image.shape, strict=True)]
    pads = [(s // 2, s - s // 2) for s in short]
    return np.pad(image, pads, mode="edge"), np.pad(label, pads, mode="edge")


def crop_bounds(shape: tuple[int, ...], strides: tuple[int, ...]) -> list[tuple[int, int]]:
    """Per axis (start, stop): a remainder under half a stride is cut, centred."""
    out = []
    for n, s in zip(shape, strides, strict=True):
        r = n % s
        r = r if r < s // 2 else 0
        out.append((r // 2, n - (r - r // 2)))
    return out


def pad_widths(
    shape: tuple[int, ...], roi: tuple[int, ...], strides: tuple[int, ...]
) -> list[tuple[int, int]]:
    """Per axis (before, after): up to a whole stride, and one more if still under the ROI."""
    out = []
    for n, r, s in zip(shape, roi, strides, strict=True):
        extra = (s - n % s) % s
        if n + extra < r:
            extra += s
        out.append((extra // 2, extra - extra // 2))
    return out


def fit_to_window(
    image: np.ndarray, label: np.ndarray, geometry: Geometry
) -> tuple[np.ndarray, np.ndarray]:
    box = tuple(slice(a, b) for a, b in crop_bounds(image.shape, geometry.strides))
    image, label = image[box], label[box]
    pads = pad_widths(image.shape, geometry.roi, geometry.strides)
    image = np.pad(image, pads, mode="constant", constant_values=PADDING)
    label = np.pad(label, pads, mode="constant", constant_values=0)
    return image, label


def preprocess(
    image: np.ndarray,
    label: np.ndarray,
    spacing: tuple[float, float, float],
    geometry: Geometry = Geometry(),
) -> tuple[np.ndarray, np.ndarray]:
    """One case: image float32 [1, D, H, W] and label uint8 [D, H, W], ready to infer."""
    image, label = resample(image, label, spacing)
    image = normalise(image)
    image, label = pad_to_roi(image, label, geometry.roi)
    image, label = fit_to_window(image, label, geometry)
    return image[np.newaxis].astype(np.float32), label.astype(np.uint8)
