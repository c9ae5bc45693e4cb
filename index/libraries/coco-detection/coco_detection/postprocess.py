"""A YOLO model's raw output for one image to its detections, as Ultralytics' predictor
turns an exported detector's output into boxes.

The output is YOLOv8/YOLO11's export layout, float32 [84, A] per image: rows 0-3 the box
centre x, centre y, width and height in input pixels, rows 4-83 the 80 class scores (after
the sigmoid), one column per anchor (A = 8400 at 640 x 640: strides 8, 16 and 32). Each
anchor keeps its best class; anchors scoring above ``conf`` (0.001, the MLPerf reference's
``predict(conf=0.001)``) are sorted by score, at most ``MAX_NMS`` of them go through
non-maximum suppression per class (IoU above ``iou`` = 0.7 suppresses, Ultralytics'
default), and the first ``max_det`` = 300 survivors are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CONF = 0.001
IOU = 0.7
MAX_DET = 300
MAX_NMS = 30_000
# Boxes of different classes are moved this far apart so one NMS pass never lets them
# suppress each other (Ultralytics' max_wh).
CLASS_OFFSET = 7680.0


@dataclass(frozen=True, slots=True)
class Detections:
    """One image's detections, best first: xyxy boxes on the input, scores, class indices."""

    boxes: np.ndarray  # float32 [k, 4]
    scores: np.ndarray  # float32 [k]
    classes: np.ndarray  # int64 [k], 0..79

    def __len__(self) -> int:
        return len(self.scores)


def xyxy(centre_size: np.ndarray) -> np.ndarray:
    """[k, 4] cx, cy, w, h -> [k, 4] x1, y1, x2, y2."""
    half = centre_size[:, 2:4] / 2
    return np.concatenate([centre_size[:, :2] - half, centre_size[:, :2] + half], axis=1)


def iou_with(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """IoU of one xyxy box with each of [k, 4] others."""
    top_left = np.maximum(box[:2], others[:, :2])
    bottom_right = np.minimum(box[2:], others[:, 2:])
    inter = np.prod((bottom_right - top_left).clip(0), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(others[:, 2:] - others[:, :2], axis=1)
    return np.asarray(inter / np.maximum(area + areas - inter, 1e-12))


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, limit: int) -> np.ndarray:
    """Greedy NMS: indices of the kept boxes, best first (at most ``limit``)."""
    order = np.argsort(-scores, kind="stable")
    kept: list[int] = []
    while order.size and len(kept) < limit:
        best = int(order[0])
        kept.append(best)
        rest = order[1:]
        order = rest[iou_with(boxes[best], boxes[rest]) <= threshold]
    return np.asarray(kept, dtype=np.int64)


def detect(
    output: np.ndarray, conf: float = CONF, iou: float = IOU, max_det: int = MAX_DET
) -> Detections:
    """Detections of one image's float32 [84, A] output."""
    class_scores = output[4:]
    classes = class_scores.argmax(axis=0)
    scores = class_scores[classes, np.arange(class_scores.shape[1])]
    candidates = np.flatnonzero(scores > conf)
    candidates = candidates[np.argsort(-scores[candidates], kind="stable")][:MAX_NMS]
    boxes = xyxy(output[:4, candidates].T)
    shifted = boxes + (classes[candidates] * CLASS_OFFSET)[:, None]
    kept = nms(shifted, scores[candidates], iou, max_det)
    chosen = candidates[kept]
    return Detections(
        boxes=boxes[kept].astype(np.float32),
        scores=scores[chosen].astype(np.float32),
        classes=classes[chosen].astype(np.int64),
    )
