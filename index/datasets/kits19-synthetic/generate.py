"""A KiTS19-shaped set of small CT volumes in NIfTI, segmented by the synthetic 3D-UNet.

Writes ``case_XXXXX/imaging.nii.gz`` (int16 Hounsfield units: air, an elliptic body of
soft tissue, two brighter kidney-like ellipsoids, one with a darker tumour-like blob, and
noise) and ``case_XXXXX/segmentation.nii.gz`` (uint8), as KiTS19 ships its cases, plus
``inference_cases.json`` (the case list the app reads) and ``kits19.json``. The volumes are
at the reference's target spacing (1.6 x 1.2 x 1.2 mm), so its resampling is the identity,
and each edge is a whole number of sliding-window strides plus a remainder under half a
stride, which the reference's preprocessing crops. Each label is what the synthetic model
itself predicts for the volume through ``kits19_seg`` (the preprocessing and sliding
window the benchmark runs), placed where the crop keeps it, with background in the cropped
margin: an accuracy run of the pair must give a mean DICE of 1.
Needs numpy, nibabel, onnxruntime and kits19_seg. Exit 0 on success, 2 on bad flags.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

STRIDES_PER_EDGE = (3, 4)  # with the synthetic model's 32-voxel window: 48 or 64 voxels


def ellipsoid(shape: tuple[int, ...], centre: np.ndarray, radii: np.ndarray) -> np.ndarray:
    grid = np.indices(shape, dtype=np.float32)
    d = sum(((grid[a] - centre[a]) / radii[a]) ** 2 for a in range(3))
    inside: np.ndarray = d <= 1.0
    return inside


def volume(rng: np.random.Generator, shape: tuple[int, int, int]) -> np.ndarray:
    """A CT-like volume in Hounsfield units."""
    size = np.asarray(shape, dtype=np.float32)
    hu = np.full(shape, -1000.0, dtype=np.float32)
    body = ellipsoid(shape, size / 2, size * rng.uniform(0.38, 0.48, 3))
    hu[body] = 40.0
    for side in (0.3, 0.7):
        centre = size * np.array([rng.uniform(0.4, 0.6), rng.uniform(0.4, 0.6), side])
        hu[ellipsoid(shape, centre, size * rng.uniform(0.1, 0.18, 3))] = rng.uniform(150, 250)
    blob = size * np.array([rng.uniform(0.35, 0.65), rng.uniform(0.35, 0.65), 0.3])
    hu[ellipsoid(shape, blob, size * rng.uniform(0.05, 0.09, 3))] = rng.uniform(60, 100)
    hu += rng.normal(0.0, 25.0, shape).astype(np.float32)
    return np.round(hu).astype(np.float32)


def edge(rng: np.random.Generator, stride: int) -> int:
    return stride * int(rng.choice(STRIDES_PER_EDGE)) + int(rng.integers(0, stride // 2))


def main(argv: list[str] | None = None) -> int:
    import onnxruntime as ort
    from kits19_seg import cases, preprocess, sliding_window

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, required=True, help="the synthetic model.onnx")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--count", type=int, default=8, help="cases")
    args = p.parse_args(argv)
    if args.count < 1:
        print("error: --count must be at least 1", file=sys.stderr)
        return 2
    session = ort.InferenceSession(str(args.model), providers=["CPUExecutionProvider"])
    roi = tuple(int(d) for d in session.get_inputs()[0].shape[2:])
    geometry = preprocess.Geometry(roi=(roi[0], roi[1], roi[2]))

    def infer(window: np.ndarray) -> np.ndarray:
        out: np.ndarray = session.run(["output"], {"input": window})[0]
        return out

    rng = np.random.default_rng(args.seed)
    names, described = [], []
    for n in range(args.count):
        name = f"case_{n:05d}"
        shape = (
            edge(rng, geometry.strides[0]),
            edge(rng, geometry.strides[1]),
            edge(rng, geometry.strides[2]),
        )
        hu = volume(rng, shape)
        empty = np.zeros(shape, np.uint8)
        image, _ = preprocess.preprocess(hu, empty, preprocess.TARGET_SPACING, geometry)
        predicted = sliding_window.segment(image, geometry, infer)
        box = tuple(slice(a, b) for a, b in preprocess.crop_bounds(shape, geometry.strides))
        label = empty.copy()
        label[box] = predicted
        _, kept = preprocess.preprocess(hu, label, preprocess.TARGET_SPACING, geometry)
        if not np.array_equal(kept, predicted):  # the crop must keep exactly the prediction
            raise SystemExit(f"error: {name}: preprocessing changed the label (shape {shape})")
        cases.write(args.out, name, hu, label, preprocess.TARGET_SPACING)
        names.append(name)
        counts = np.bincount(predicted.ravel(), minlength=3)
        described.append(
            {
                "case": name,
                "shape": list(shape),
                "preprocessed": list(predicted.shape),
                "voxels": {
                    "background": int(counts[0]),
                    "kidney": int(counts[1]),
                    "tumour": int(counts[2]),
                },
            }
        )
    (args.out / cases.CASE_LIST).write_text(json.dumps(names, indent=1) + "\n")
    meta = {
        "seed": args.seed,
        "spacing": list(preprocess.TARGET_SPACING),
        "roi": list(roi),
        "model_sha256": hashlib.sha256(args.model.read_bytes()).hexdigest(),
        "cases": described,
    }
    (args.out / "kits19.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
