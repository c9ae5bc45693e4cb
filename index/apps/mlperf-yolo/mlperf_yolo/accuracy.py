"""COCO mAP of an accuracy log, as the reference's accuracy-coco.py scores it.

Each response is the image's detections as float32 records of 7 values (the reference
SUT's ``struct.pack("7f", ...)``); images answered with none still count. accuracy.txt
gets accuracy-coco.py's ``mAP=53.103%`` line, the form the submission checker matches.
"""

from __future__ import annotations

from pathlib import Path

from coco_detection import metric, record
from mlperf_harness.report import Score


def score(samples: dict[int, bytes], annotations: Path) -> Score:
    result = metric.coco_map(annotations, {i: record.decode(r) for i, r in samples.items()})
    return Score(
        metric="mAP",
        value=result.value,
        details={
            "images": result.images,
            "detections": result.detections,
            "images_without_detections": result.empty,
            "mismatched_indices": result.mismatched,
            "coco_stats": [round(s, 6) for s in result.stats],
        },
        lines=[f"mAP={result.value:.3f}%"],
        text=f"mAP {result.value:.3f}% ({result.images} images, {result.detections} detections)",
    )
