"""A COCO instances file and its images as the harness's dataset: sample ``i`` is the
file's ``images[i]`` (accuracy-coco.py's ``qsl_idx`` order), letterboxed to uint8
[3, 640, 640] when LoadGen loads it (untimed), with its index and size beside it so the
backend can put its boxes back on the original image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from coco_detection import INPUT_SIZE, annotations, letterbox

SAMPLE = np.dtype(
    [
        ("index", "<i8"),
        ("height", "<i4"),
        ("width", "<i4"),
        ("image", "u1", (3, INPUT_SIZE, INPUT_SIZE)),
    ]
)


class CocoSet:
    def __init__(self, images: Path, annotation_file: Path, count: int | None) -> None:
        self.folder = images
        every = annotations.read_images(annotation_file)
        self.images = every[:count] if count is not None else every
        self.available = len(every)
        if not self.images:
            raise ValueError(f"{annotation_file} lists no images")

    @property
    def count(self) -> int:
        return len(self.images)

    def missing(self) -> list[str]:
        return annotations.missing_files(self.images, self.folder)

    def read(self, index: int) -> np.ndarray:
        pixels, geometry = letterbox.letterbox(self.folder / self.images[index].file_name)
        sample = np.zeros((), dtype=SAMPLE)
        sample["index"], sample["image"] = index, pixels
        sample["height"], sample["width"] = geometry.height, geometry.width
        return sample
