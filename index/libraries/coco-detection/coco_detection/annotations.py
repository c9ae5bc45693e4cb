"""A COCO instances file (``instances_val2017.json``): its images in file order.

LoadGen's sample ``i`` is the file's ``images[i]``: the order accuracy-coco.py indexes
with the accuracy log's ``qsl_idx``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Image:
    id: int
    file_name: str
    height: int
    width: int


def read_images(path: Path) -> list[Image]:
    """The images of a COCO instances file, in file order."""
    data: dict[str, Any] = json.loads(path.read_text())
    try:
        return [
            Image(int(i["id"]), str(i["file_name"]), int(i["height"]), int(i["width"]))
            for i in data["images"]
        ]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a COCO instances file ({exc!r} missing)") from exc


def missing_files(images: list[Image], directory: Path) -> list[str]:
    return [i.file_name for i in images if not (directory / i.file_name).is_file()]
