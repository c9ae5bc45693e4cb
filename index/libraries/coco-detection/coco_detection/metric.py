"""COCO mAP@[.5:.95] of an accuracy log's detections, as MLCommons' accuracy-coco.py
computes it: each sample's records become COCO detections in image pixels (boxes
``[x, y, w, h]``), samples without records still count as evaluated images, a record whose
sample index disagrees with LoadGen's is counted (the reference prints an error), and
pycocotools' COCOeval (``bbox``) over the evaluated images gives ``stats[0]``, reported in
percent.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class MapScore:
    value: float  # mAP@[.5:.95] in percent
    stats: tuple[float, ...]  # COCOeval's 12 summary figures (fractions)
    images: int  # evaluated images
    detections: int
    empty: int  # images answered with no detection
    mismatched: int  # records whose sample index disagrees with LoadGen's


def _detections(
    gt: Any, samples: dict[int, np.ndarray]
) -> tuple[list[dict[str, Any]], set[int], int, int]:
    images = gt.dataset["images"]
    found: list[dict[str, Any]] = []
    ids: set[int] = set()
    empty = mismatched = 0
    for index, records in sorted(samples.items()):
        image = images[index]
        ids.add(int(image["id"]))
        empty += len(records) == 0
        h, w = float(image["height"]), float(image["width"])
        for sample, ymin, xmin, ymax, xmax, score, category in records.astype(np.float64):
            mismatched += int(sample) != index
            found.append(
                {
                    "image_id": int(image["id"]),
                    "category_id": int(category),
                    "bbox": [xmin * w, ymin * h, (xmax - xmin) * w, (ymax - ymin) * h],
                    "score": float(score),
                }
            )
    return found, ids, empty, mismatched


def coco_map(annotations: Path, samples: dict[int, np.ndarray]) -> MapScore:
    """mAP of ``samples`` (sample index -> float32 [k, 7] records) against ``annotations``."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    # pycocotools reports on stdout, which the harness keeps for its summary.
    with contextlib.redirect_stdout(sys.stderr):
        gt = COCO(str(annotations))
        found, ids, empty, mismatched = _detections(gt, samples)
        stats: tuple[float, ...] = ()
        if found:
            evaluation = COCOeval(gt, gt.loadRes(found), iouType="bbox")
            evaluation.params.imgIds = sorted(ids)
            evaluation.evaluate()
            evaluation.accumulate()
            evaluation.summarize()
            stats = tuple(float(s) for s in evaluation.stats)
    value = 100.0 * max(stats[0], 0.0) if stats else 0.0
    return MapScore(value, stats, len(ids), len(found), empty, mismatched)
