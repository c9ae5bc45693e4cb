"""Preprocess ImageNet validation images the way the MLPerf ResNet-50 reference does.

For each image listed in ``<images>/val_map.txt`` (in order): decode as RGB, resize so the
shorter side is 256 keeping the aspect ratio (the reference's ``resize_with_aspectratio``
with scale 87.5%: the longer side is ``int(256 * long / short)``), center-crop 224x224,
convert to float32, subtract the channel means [123.68, 116.78, 103.94] and store the
result in the requested layout as ``<out>/<image name>.npy`` (the reference's cache name).
``val_map.txt`` is copied for the processed entries, and ``preprocess.json`` records the
parameters.

Two resizers: ``cv2`` is the reference's exact path (``cv2.imread``, BGR->RGB,
``cv2.resize`` with ``INTER_AREA``); ``pillow`` (the default: Pillow is already needed for
the synthetic images and is a small wheel with no system libraries) uses the BOX filter
when shrinking, which is area averaging with whole-pixel weights, and BILINEAR when
enlarging. The two differ by a fraction of an intensity level on average but by much more
at hard edges (whole-pixel versus fractional weights); use ``cv2`` when the accuracy figure
must match the reference's. This script must not import cmpkg.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

OUT_SIZE = 224
SCALE_PERCENT = 87.5
MEANS = (123.68, 116.78, 103.94)
LAYOUTS = ("NCHW", "NHWC")
RESIZERS = ("pillow", "cv2")


@dataclass(frozen=True, slots=True)
class Job:
    source: Path
    target: Path
    layout: str
    resizer: str


def resized_size(width: int, height: int, out: int = OUT_SIZE) -> tuple[int, int]:
    """(width, height) after the reference's aspect-preserving resize (shorter side 256)."""
    short = int(100.0 * out / SCALE_PERCENT)
    if height > width:
        return short, int(short * height / width)
    return int(short * width / height), short


def crop_box(width: int, height: int, out: int = OUT_SIZE) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the reference's center crop."""
    left = int((width - out) / 2)
    top = int((height - out) / 2)
    return left, top, left + out, top + out


def read_val_map(path: Path, count: int | None = None) -> list[tuple[str, int]]:
    """(file name, label) pairs in file order, the first ``count`` if given."""
    entries = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 2:
            entries.append((fields[0], int(fields[1])))
    return entries[:count] if count is not None else entries


def load_rgb_pillow(path: Path) -> np.ndarray:
    """Decoded, resized RGB pixels (uint8 HxWx3) with Pillow."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        rgb = image.convert("RGB")
    size = resized_size(*rgb.size)
    shrinking = size[0] <= rgb.size[0]
    method = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    return np.asarray(rgb.resize(size, method), dtype=np.uint8)


def load_rgb_cv2(path: Path) -> np.ndarray:
    """Decoded, resized RGB pixels (uint8 HxWx3) exactly as the reference does, with cv2."""
    import cv2
    import numpy as np

    bgr = cv2.imread(str(path))
    if bgr is None:
        raise ValueError(f"cannot decode {path}")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    width, height = resized_size(rgb.shape[1], rgb.shape[0])
    return np.asarray(cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA))


def preprocess_image(path: Path, layout: str, resizer: str = "pillow") -> np.ndarray:
    """One image as the model's float32 input: 3x224x224 (NCHW) or 224x224x3 (NHWC)."""
    import numpy as np

    pixels = load_rgb_cv2(path) if resizer == "cv2" else load_rgb_pillow(path)
    left, top, right, bottom = crop_box(pixels.shape[1], pixels.shape[0])
    crop = pixels[top:bottom, left:right].astype(np.float32)
    crop -= np.array(MEANS, dtype=np.float32)
    if layout == "NCHW":
        crop = crop.transpose(2, 0, 1)
    return np.ascontiguousarray(crop)


def run_job(job: Job) -> str:
    import numpy as np

    np.save(job.target, preprocess_image(job.source, job.layout, job.resizer))
    return job.target.name


def jobs_for(
    images: Path, out: Path, entries: list[tuple[str, int]], args: argparse.Namespace
) -> list[Job]:
    return [
        Job(images / name, out / f"{name}.npy", args.layout, args.resizer) for name, _ in entries
    ]


def write_metadata(out: Path, entries: list[tuple[str, int]], args: argparse.Namespace) -> None:
    (out / "val_map.txt").write_text("".join(f"{n} {label}\n" for n, label in entries))
    meta = {
        "count": len(entries),
        "crop": OUT_SIZE,
        "dtype": "float32",
        "layout": args.layout,
        "means": list(MEANS),
        "resize_shorter_side": resized_size(1, 1)[0],
        "resizer": args.resizer,
    }
    (out / "preprocess.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def preprocess(args: argparse.Namespace) -> int:
    entries = read_val_map(args.images / "val_map.txt", args.count)
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = jobs_for(args.images, args.out, entries, args)
    if args.jobs <= 1:
        for job in jobs:
            run_job(job)
    else:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            for _ in pool.map(run_job, jobs, chunksize=16):
                pass
    write_metadata(args.out, entries, args)
    return len(entries)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--images", type=Path, required=True, help="directory with the JPEG images and val_map.txt"
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--layout", choices=LAYOUTS, default="NCHW")
    parser.add_argument(
        "--count", type=int, default=None, help="only the first COUNT images of val_map.txt"
    )
    parser.add_argument("--resizer", choices=RESIZERS, default="pillow")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: all CPUs)"
    )
    args = parser.parse_args(argv)
    if not (args.images / "val_map.txt").is_file():
        parser.error(f"{args.images / 'val_map.txt'} not found")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    count = preprocess(args)
    print(f"{count} images -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
