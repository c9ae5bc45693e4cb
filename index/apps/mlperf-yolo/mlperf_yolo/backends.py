"""YOLO engines: each takes loaded samples (``dataset.SAMPLE`` records) and answers a batch
of loaded positions with one float32 [k, 7] array of detection records per image (the
reference's response; k differs from image to image).

- ``onnxruntime``: an Ultralytics ONNX export of YOLOv11 or the synthetic model (input
  ``images`` float32 [N, 3, 640, 640] RGB / 255; output ``output0`` float32 [N, 84, 8400]),
  on the CPU or CUDA execution provider; boxes from ``coco_detection.postprocess``.
- ``ultralytics``: the MLCommons checkpoint in Ultralytics' own predictor, as the reference
  runs it (``predict(conf=0.001)``). Ultralytics is AGPL-3.0 and reaches the network by
  default (settings sync, update checks, font and weight downloads, pip auto-install):
  this backend sets ``YOLO_OFFLINE``, ``YOLO_AUTOINSTALL=false`` and a private
  ``YOLO_CONFIG_DIR`` before importing it. Not run on this project's machines (no torch or
  ultralytics in the tests, no checkpoint); see docs/mlperf.md.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np
from coco_detection import INPUT_SIZE, postprocess, record
from coco_detection.letterbox import Geometry
from mlperf_harness.benchmark import EngineOptions
from mlperf_harness.onnxruntime_session import open_session
from mlperf_harness.sut import Done, Pending

INPUT, OUTPUT = "images", "output0"
OUTPUT_ROWS = 84  # cx, cy, w, h and 80 class scores


class BackendError(RuntimeError):
    """A backend cannot run as asked; the message says why and what to do."""


def _records(batch: np.ndarray, found: list[postprocess.Detections]) -> list[np.ndarray]:
    return [
        record.encode(int(s["index"]), f, Geometry(int(s["height"]), int(s["width"])))
        for s, f in zip(batch, found, strict=True)
    ]


class OnnxBackend:
    def __init__(self, options: EngineOptions) -> None:
        self.session = open_session(options.model, options.device, options.threads)
        inputs = [i.name for i in self.session.get_inputs()]
        outputs = [(o.name, o.shape[1]) for o in self.session.get_outputs()]
        if inputs != [INPUT] or outputs[:1] != [(OUTPUT, OUTPUT_ROWS)]:
            raise BackendError(
                f"{options.model}: inputs {inputs}, outputs {outputs}; expected an Ultralytics "
                f"detection export ({INPUT} -> {OUTPUT} [N, {OUTPUT_ROWS}, anchors])"
            )
        self.data = np.zeros(0, dtype=np.uint8)

    def load(self, samples: np.ndarray) -> None:
        self.data = samples

    def unload(self) -> None:
        self.data = np.zeros(0, dtype=np.uint8)

    def infer(self, images: np.ndarray) -> np.ndarray:
        (raw,) = self.session.run([OUTPUT], {INPUT: images.astype(np.float32) / 255.0})
        return np.asarray(raw)

    def launch(self, positions: np.ndarray) -> Pending:
        batch = self.data[positions]
        raw = self.infer(batch["image"])
        return Done(_records(batch, [postprocess.detect(r) for r in raw]))

    def warmup(self, batch: int) -> None:
        self.infer(np.zeros((batch, 3, INPUT_SIZE, INPUT_SIZE), np.uint8))

    def describe(self) -> dict[str, Any]:
        return {"providers": self.session.get_providers(), "input": INPUT, "output": OUTPUT}


class UltralyticsBackend:
    def __init__(self, options: EngineOptions) -> None:
        # Before the first import: Ultralytics reads these once, at import time.
        os.environ["YOLO_OFFLINE"] = "true"
        os.environ["YOLO_AUTOINSTALL"] = "false"
        os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="cmpkg-yolo-"))
        import ultralytics
        from ultralytics import YOLO

        self.version = ultralytics.__version__
        self.model = YOLO(str(options.model), task="detect")
        self.device = "cpu" if options.device == "cpu" else "cuda:0"
        self.data = np.zeros(0, dtype=np.uint8)

    def load(self, samples: np.ndarray) -> None:
        self.data = samples

    def unload(self) -> None:
        self.data = np.zeros(0, dtype=np.uint8)

    def launch(self, positions: np.ndarray) -> Pending:
        batch = self.data[positions]
        # Ultralytics takes HWC BGR arrays; the letterboxed 640 x 640 input passes through
        # its own letterbox unchanged, so boxes come back on that input.
        images = [np.ascontiguousarray(s["image"].transpose(1, 2, 0)[:, :, ::-1]) for s in batch]
        results = self.model.predict(
            images, conf=postprocess.CONF, imgsz=INPUT_SIZE, device=self.device, verbose=False
        )
        found = [
            postprocess.Detections(
                boxes=r.boxes.xyxy.cpu().numpy().astype(np.float32),
                scores=r.boxes.conf.cpu().numpy().astype(np.float32),
                classes=r.boxes.cls.cpu().numpy().astype(np.int64),
            )
            for r in results
        ]
        return Done(_records(batch, found))

    def warmup(self, batch: int) -> None:
        blank = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.uint8)
        self.model.predict([blank] * batch, imgsz=INPUT_SIZE, device=self.device, verbose=False)

    def describe(self) -> dict[str, Any]:
        return {"ultralytics": self.version, "device": self.device, "offline": True}


def make_backend(kind: str, options: EngineOptions) -> Any:
    if kind == "onnxruntime":
        return OnnxBackend(options)
    if kind == "ultralytics":
        return UltralyticsBackend(options)
    raise BackendError(f"unknown backend {kind!r}")
