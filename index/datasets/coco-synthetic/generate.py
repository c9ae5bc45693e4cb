"""A COCO-shaped detection set of seeded synthetic images, labelled by the synthetic YOLO.

Writes ``val2017/<id>.jpg`` (images of 320-640 pixels a side: a colour gradient with
random rectangles and ellipses, JPEG), ``annotations/instances_val2017.json`` (COCO
instances: ``images``, ``annotations`` with ``[x, y, w, h]`` boxes, the 80 ``categories``)
and ``coco.json``. The ground truth is what the synthetic model itself detects, computed
through ``coco_detection`` (letterbox, postprocessing, response records: the code the
benchmark scores with): per category, every detection scoring at least ``--min-score``
and above each of the category's unmatchable detections (zero-area boxes, clipped away in
the letterbox padding). An accuracy run of the pair must then give mAP = 100%: each true
box is detected exactly, and every other detection of its category ranks after all the
true ones (COCO AP is computed per category). Images may hold no true box. Needs numpy,
Pillow, onnxruntime and coco_detection. Exit 0 on success, 1 when an image and category
hold more true boxes than COCOeval counts (100), 2 on bad flags.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

BATCH = 8
# COCOeval scores the 100 best detections per image: more true boxes could not all count.
MAX_BOXES = 100
# The 80 COCO categories (COCO's ids, in the model's class order).
NAMES_TEXT = (
    "person bicycle car motorcycle airplane bus train truck boat traffic_light fire_hydrant "
    "stop_sign parking_meter bench bird cat dog horse sheep cow elephant bear zebra giraffe "
    "backpack umbrella handbag tie suitcase frisbee skis snowboard sports_ball kite "
    "baseball_bat baseball_glove skateboard surfboard tennis_racket bottle wine_glass cup "
    "fork knife spoon bowl banana apple sandwich orange broccoli carrot hot_dog pizza donut "
    "cake chair couch potted_plant bed dining_table toilet tv laptop mouse remote keyboard "
    "cell_phone microwave oven toaster sink refrigerator book clock vase scissors teddy_bear "
    "hair_drier toothbrush"
)
NAMES = NAMES_TEXT.split()


def draw(rng: np.random.Generator, path: Path) -> None:
    from PIL import Image, ImageDraw

    w, h = (int(v) for v in rng.integers(320, 641, size=2))
    top, bottom = rng.integers(0, 256, size=(2, 3))
    ramp = np.linspace(0.0, 1.0, h)[:, None, None]
    pixels = (top * (1 - ramp) + bottom * ramp).repeat(w, axis=1).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    pen = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(3, 9))):
        x0, x1 = sorted(int(v) for v in rng.integers(0, w, size=2))
        y0, y1 = sorted(int(v) for v in rng.integers(0, h, size=2))
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        shape = pen.rectangle if rng.random() < 0.5 else pen.ellipse
        shape((x0, y0, x1, y1), fill=colour)
    image.save(path, quality=90)


def records_of(model: Path, paths: list[Path]) -> list[np.ndarray]:
    """Each image's response records, exactly as the benchmark's backend makes them."""
    import onnxruntime as ort
    from coco_detection import letterbox, postprocess, record

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    out: list[np.ndarray] = []
    for start in range(0, len(paths), BATCH):
        boxed = [letterbox.letterbox(p) for p in paths[start : start + BATCH]]
        x = np.stack([b[0] for b in boxed]).astype(np.float32) / 255.0
        (raw,) = session.run(["output0"], {"images": x})
        for i, (_, geometry) in enumerate(boxed):
            found = postprocess.detect(raw[i])
            out.append(record.encode(start + i, found, geometry))
    return out


def boxes_of(records: np.ndarray, image: dict[str, Any]) -> list[dict[str, Any]]:
    """The image's detections as COCO boxes in pixels (as accuracy-coco.py converts them)."""
    h, w = float(image["height"]), float(image["width"])
    out = []
    for _, ymin, xmin, ymax, xmax, score, category in records.astype(np.float64):
        box = [xmin * w, ymin * h, (xmax - xmin) * w, (ymax - ymin) * h]
        out.append(
            {
                "image_id": image["id"],
                "category_id": int(category),
                "bbox": box,
                "area": box[2] * box[3],
                "iscrowd": 0,
                "score": float(score),
            }
        )
    return out


def thresholds(found: list[dict[str, Any]], min_score: float) -> dict[int, float]:
    """For each category with boxes no ground truth can match (zero area: clipped away in
    the letterbox padding), the score its true boxes must exceed: the best such box's, at
    least ``min_score``; so every unmatchable box ranks after all the true ones."""
    out: dict[int, float] = {}
    for box in found:
        if box["bbox"][2] <= 0 or box["bbox"][3] <= 0:
            category = box["category_id"]
            out[category] = max(out.get(category, min_score), box["score"])
    return out


def truth(found: list[dict[str, Any]], min_score: float) -> list[dict[str, Any]]:
    above = thresholds(found, min_score)
    kept = []
    for box in found:
        bar = above.get(box["category_id"])
        usable = box["bbox"][2] > 0 and box["bbox"][3] > 0
        if usable and (box["score"] > bar if bar is not None else box["score"] >= min_score):
            kept.append({k: v for k, v in box.items() if k != "score"})
    return kept


def crowded(annotations: list[dict[str, Any]]) -> list[str]:
    """(image, category) pairs with more true boxes than COCOeval counts detections."""
    counts: dict[tuple[int, int], int] = {}
    for a in annotations:
        key = (a["image_id"], a["category_id"])
        counts[key] = counts.get(key, 0) + 1
    return [f"image {i}, category {c}: {n} boxes" for (i, c), n in counts.items() if n > MAX_BOXES]


def draw_images(rng: np.random.Generator, folder: Path, count: int) -> list[dict[str, Any]]:
    """``count`` JPEGs in ``folder`` and their COCO ``images`` entries."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    images = []
    for image_id in range(1, count + 1):
        name = f"{image_id:012d}.jpg"
        draw(rng, folder / name)
        with Image.open(folder / name) as opened:
            width, height = opened.size
        images.append({"id": image_id, "file_name": name, "width": width, "height": height})
    return images


def instances(images: list[dict[str, Any]], annotations: list[dict[str, Any]], seed: int) -> str:
    from coco_detection import COCO_80_TO_91

    categories = [
        {"id": c, "name": n, "supercategory": "synthetic"}
        for c, n in zip(COCO_80_TO_91, NAMES, strict=True)
    ]
    data = {
        "info": {"description": "cmpkg synthetic COCO", "seed": seed},
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, required=True, help="the synthetic model.onnx")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--count", type=int, default=64, help="images")
    p.add_argument("--min-score", type=float, default=0.5, help="score of a true box")
    args = p.parse_args(argv)
    if args.count < 1:
        print("error: --count must be at least 1", file=sys.stderr)
        return 2
    folder = args.out / "val2017"
    images = draw_images(np.random.default_rng(args.seed), folder, args.count)
    records = records_of(args.model, [folder / i["file_name"] for i in images])
    found = [box for i, r in zip(images, records, strict=True) for box in boxes_of(r, i)]
    annotations = truth(found, args.min_score)
    for number, annotation in enumerate(annotations, start=1):
        annotation["id"] = number
    trouble = crowded(annotations)
    if trouble:
        print(
            "error: these labels cannot give the maximum mAP: " + "; ".join(trouble),
            file=sys.stderr,
        )
        return 1
    text = instances(images, annotations, args.seed)
    (args.out / "annotations").mkdir(exist_ok=True)
    (args.out / "annotations" / "instances_val2017.json").write_text(text)
    meta = {
        "seed": args.seed,
        "images": len(images),
        "boxes": len(annotations),
        "categories_with_boxes": len({a["category_id"] for a in annotations}),
        "min_score": args.min_score,
        "model_sha256": hashlib.sha256(args.model.read_bytes()).hexdigest(),
        "annotations_sha256": hashlib.sha256(text.encode()).hexdigest(),
    }
    (args.out / "coco.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(args.out / "annotations" / "instances_val2017.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
