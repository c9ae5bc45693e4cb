"""3D-UNet engines: each segments one loaded case (float32 [1, D, H, W]) by the reference's
sliding window and answers it as a uint8 row of D x H x W labels (the reference's response).

- ``onnxruntime``: MLCommons' ``3dunet_kits19_128x128x128_dynbatch.onnx`` or the synthetic
  model (input ``input`` [N, 1, R, R, R], output ``output`` [N, 3, R, R, R]; the window
  edge R is read from the input's shape), on the CPU or CUDA execution provider.
- ``pytorch``: MLCommons' TorchScript ``3dunet_kits19_pytorch.ptc`` (``torch.jit.load``, as
  the reference's pytorch_SUT), 128-voxel windows. Not run on this project's machines (no
  torch in the tests, no model file); see docs/mlperf.md.

One case per batch: volumes differ in size, as in the reference, which answers one
sample per query.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from kits19_seg import sliding_window
from kits19_seg.preprocess import ROI, Geometry
from mlperf_harness.benchmark import EngineOptions
from mlperf_harness.onnxruntime_session import open_session
from mlperf_harness.sut import Done, Pending


class BackendError(RuntimeError):
    """A backend cannot run as asked; the message says why and what to do."""


class _Windows:
    """The part both engines share: loaded cases in, label rows out."""

    geometry: Geometry

    def __init__(self) -> None:
        self.data: Any = None

    def infer(self, window: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def load(self, samples: np.ndarray) -> None:
        self.data = samples

    def unload(self) -> None:
        self.data = None

    def launch(self, positions: np.ndarray) -> Pending:
        if len(positions) != 1:
            raise BackendError(f"3D-UNet segments one case per batch, got {len(positions)}")
        image = self.data[int(positions[0])]
        labels = sliding_window.segment(image, self.geometry, self.infer)
        return Done(labels.reshape(1, -1))

    def warmup(self, batch: int) -> None:
        self.infer(np.zeros((1, 1, *self.geometry.roi), np.float32))


class OnnxBackend(_Windows):
    def __init__(self, options: EngineOptions) -> None:
        super().__init__()
        self.session = open_session(options.model, options.device, options.threads)
        inputs = self.session.get_inputs()
        if [i.name for i in inputs] != ["input"]:
            raise BackendError(
                f"{options.model}: inputs {[i.name for i in inputs]}, expected ['input']"
            )
        roi = inputs[0].shape[2:]
        if len(roi) != 3 or not all(isinstance(d, int) for d in roi):
            raise BackendError(
                f"{options.model}: input shape {inputs[0].shape}, expected [N, 1, R, R, R]"
            )
        self.geometry = Geometry(roi=(roi[0], roi[1], roi[2]))

    def infer(self, window: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.session.run(["output"], {"input": window})[0]
        return out

    def describe(self) -> dict[str, Any]:
        return {"providers": self.session.get_providers(), "roi": list(self.geometry.roi)}


class TorchBackend(_Windows):
    def __init__(self, options: EngineOptions) -> None:
        super().__init__()
        import torch

        self.torch = torch
        self.device = torch.device(options.device)
        if options.threads:
            torch.set_num_threads(options.threads)
        self.model = torch.jit.load(str(options.model), map_location=self.device).eval()
        self.geometry = Geometry(roi=ROI)

    def infer(self, window: np.ndarray) -> np.ndarray:
        with self.torch.inference_mode():
            out = self.model(self.torch.from_numpy(window).to(self.device))
        result: np.ndarray = out.float().cpu().numpy()
        return result

    def describe(self) -> dict[str, Any]:
        return {"torch": self.torch.__version__, "device": str(self.device), "roi": list(ROI)}


def make_backend(kind: str, options: EngineOptions) -> Any:
    if kind == "onnxruntime":
        return OnnxBackend(options)
    if kind == "pytorch":
        return TorchBackend(options)
    raise BackendError(f"unknown backend {kind!r}")
