"""Label preprocessed images with a ResNet-50 ONNX model's own predictions.

Writes ``<out>/val_map.txt`` (the dataset's lines, each label replaced by the model's
arg-max shifted to an ImageNet label: -1 for a 1001-class model) and ``labels.json``.
Needs numpy and onnxruntime. Exit 0 on success, 1 on a failure, 2 on bad flags.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

BATCH = 16
BACKGROUND_CLASSES = 1001


def predict(model: Path, dataset: Path, names: list[str]) -> list[int]:
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    outputs = [o.name for o in session.get_outputs()]
    wanted = "ArgMax:0" if "ArgMax:0" in outputs else outputs[0]
    classes: list[int] = []
    for start in range(0, len(names), BATCH):
        x = np.stack([np.load(dataset / f"{n}.npy") for n in names[start : start + BATCH]])
        out = session.run([wanted], {name: x.astype(np.float32)})[0]
        classes.extend((out if out.ndim == 1 else out.argmax(axis=1)).tolist())
    width = session.get_outputs()[-1].shape[-1]
    offset = -1 if width == BACKGROUND_CLASSES or wanted == "ArgMax:0" else 0
    return [c + offset for c in classes]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--dataset", type=Path, required=True, help="preprocessed directory")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    lines = (args.dataset / "val_map.txt").read_text().split("\n")
    names = [line.split()[0] for line in lines if line.strip()]
    labels = predict(args.model, args.dataset, names)
    args.out.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{n} {c}\n" for n, c in zip(names, labels, strict=True))
    (args.out / "val_map.txt").write_text(text)
    meta = {"model": str(args.model), "count": len(names), "distinct": len(set(labels))}
    (args.out / "labels.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(args.out / "val_map.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
