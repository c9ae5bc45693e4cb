"""The one ONNX Runtime session setup of every app's ``onnxruntime`` backend: the session
options, the execution providers for a device, and the check that CUDA really is one.

onnxruntime is imported when a session is opened, never at import time, so the harness
(and an app on another backend, such as PyTorch) imports without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


class SessionError(RuntimeError):
    """A session cannot run as asked; the message says why and what to do."""


def providers(device: str) -> list[str]:
    """The execution providers for ``device`` (cpu or cuda), most preferred first: on
    CUDA, the CPU provider still takes the operators CUDA has no kernel for."""
    return [CUDA, CPU] if device == "cuda" else [CPU]


def open_session(model: Path, device: str, threads: int | None) -> Any:
    """An ``onnxruntime.InferenceSession`` of ``model`` on ``device``, every graph
    optimisation on, ``threads`` intra-op threads (None or 0: onnxruntime's default).

    Raises SessionError when ``device`` is cuda and this onnxruntime has no CUDA provider
    (the CPU-only wheel, or no usable driver): onnxruntime would otherwise fall back to the
    CPU without a word, and a CUDA run would measure the CPU."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(model), options, providers=providers(device))
    if device == "cuda" and CUDA not in session.get_providers():
        raise SessionError(
            f"{CUDA} is not available in this onnxruntime "
            f"(providers: {ort.get_available_providers()}); hint: install onnxruntime-gpu"
        )
    return session
