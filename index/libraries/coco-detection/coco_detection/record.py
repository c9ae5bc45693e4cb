"""The MLPerf response of one image: its detections as float32 records of 7 values.

Each record is ``[sample index, ymin, xmin, ymax, xmax, score, COCO category id]`` with
the box in the original image normalised by its height and width: what the reference's
SUT packs with ``struct.pack("7f", ...)`` and what accuracy-coco.py unpacks. An image
without detections answers with zero bytes.
"""

from __future__ import annotations

import numpy as np

from coco_detection import COCO_80_TO_91
from coco_detection.letterbox import Geometry, to_image
from coco_detection.postprocess import Detections

FIELDS = 7
CATEGORY_OF_CLASS = np.asarray(COCO_80_TO_91, dtype=np.float32)


def encode(index: int, found: Detections, geometry: Geometry) -> np.ndarray:
    """float32 [k, 7] records of one image's detections."""
    boxes = to_image(found.boxes.astype(np.float64), geometry)
    h, w = geometry.height, geometry.width
    out = np.empty((len(found), FIELDS), dtype=np.float32)
    out[:, 0] = index
    out[:, 1], out[:, 2] = boxes[:, 1] / h, boxes[:, 0] / w
    out[:, 3], out[:, 4] = boxes[:, 3] / h, boxes[:, 2] / w
    out[:, 5] = found.scores
    out[:, 6] = CATEGORY_OF_CLASS[found.classes]
    return out


def decode(raw: bytes) -> np.ndarray:
    """float32 [k, 7] records from a response's bytes (k = 0 for an empty response)."""
    return np.frombuffer(raw, dtype="<f4").reshape(-1, FIELDS)
