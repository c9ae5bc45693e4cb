"""Generate synthetic ImageNet-validation-shaped JPEG images and their ``val_map.txt``.

The layout matches the official ImageNet 2012 validation directory as MLPerf uses it:
``ILSVRC2012_val_00000001.JPEG`` ... plus ``val_map.txt`` with lines
``ILSVRC2012_val_00000001.JPEG 65`` (labels 0..999). Images are RGB, of varied sizes around
500x375 like the real set, with smooth gradients and a few shapes so that a model's
predictions differ between images. The content and labels depend only on the seed; the
JPEG bytes also depend on the Pillow/libjpeg version that encodes them. This script must
not import cmpkg.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CLASSES = 1000
SIZES = ((500, 375), (375, 500), (500, 333), (333, 500), (500, 400), (640, 480), (400, 300))
SHAPES_PER_IMAGE = 4
JPEG_QUALITY = 90


def image_name(index: int) -> str:
    """The official file name of the 1-based ``index``-th validation image."""
    return f"ILSVRC2012_val_{index:08d}.JPEG"


def image_size(rng: np.random.Generator) -> tuple[int, int]:
    """(width, height): a common ImageNet size, jittered by a few pixels."""
    width, height = SIZES[int(rng.integers(len(SIZES)))]
    jitter = rng.integers(-16, 17, size=2)
    return width + int(jitter[0]), height + int(jitter[1])


def background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A linear colour gradient between two random colours, uint8 HxWx3."""
    start, end = rng.uniform(0, 255, size=(2, 3))
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    t = xs / width * np.cos(angle) + ys / height * np.sin(angle)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    pixels = start + t[..., None] * (end - start)
    out: np.ndarray = np.clip(pixels, 0, 255).astype(np.uint8)
    return out


def draw_shapes(image: Image.Image, rng: np.random.Generator) -> None:
    draw = ImageDraw.Draw(image)
    width, height = image.size
    for _ in range(SHAPES_PER_IMAGE):
        x0, x1 = sorted(int(v) for v in rng.integers(0, width, size=2))
        y0, y1 = sorted(int(v) for v in rng.integers(0, height, size=2))
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        if rng.integers(2):
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)


def make_image(rng: np.random.Generator) -> Image.Image:
    width, height = image_size(rng)
    image = Image.fromarray(background(rng, width, height), mode="RGB")
    draw_shapes(image, rng)
    return image


def generate(out: Path, seed: int, count: int) -> list[tuple[str, int]]:
    """Write ``count`` images and ``val_map.txt`` into ``out``; returns the map's entries."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, size=count)
    entries = []
    for i in range(count):
        name = image_name(i + 1)
        make_image(rng).save(out / name, format="JPEG", quality=JPEG_QUALITY)
        entries.append((name, int(labels[i])))
    lines = "".join(f"{name} {label}\n" for name, label in entries)
    (out / "val_map.txt").write_text(lines)
    return entries


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--count", type=int, default=500, help="number of images (default 500)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    generate(args.out, args.seed, args.count)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
