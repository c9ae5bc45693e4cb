"""Versions of the stack and the accelerators it sees (``--versions``, a smoke test)."""

from __future__ import annotations

import importlib
import importlib.metadata
import platform
import sys
from typing import Any


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _onnxruntime() -> dict[str, Any] | None:
    try:
        ort = importlib.import_module("onnxruntime")
    except ImportError:
        return None
    return {"version": ort.__version__, "providers": list(ort.get_available_providers())}


def _torch() -> dict[str, Any] | None:
    try:
        torch = importlib.import_module("torch")
    except ImportError:
        return None
    info: dict[str, Any] = {
        "version": torch.__version__,
        "cuda": torch.version.cuda,
        "cuda_available": bool(torch.cuda.is_available()),
    }
    if info["cuda_available"]:
        count = torch.cuda.device_count()
        info["devices"] = [torch.cuda.get_device_name(i) for i in range(count)]
        info["cudnn"] = torch.backends.cudnn.version()
    return info


def _loadgen() -> dict[str, Any] | None:
    try:
        importlib.import_module("mlperf_loadgen")
    except ImportError:
        return None
    return {"version": _dist_version("mlcommons-loadgen") or _dist_version("mlcommons_loadgen")}


def collect(extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """What is importable, with versions; a missing package is None. ``extra``: more
    distributions an app depends on (tokenizers, ...), by name."""
    numpy = importlib.import_module("numpy")
    return {
        "python": platform.python_version(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "numpy": numpy.__version__,
        "mlperf_loadgen": _loadgen(),
        "onnxruntime": _onnxruntime(),
        "torch": _torch(),
        "mlperf_harness": importlib.import_module("mlperf_harness").__version__,
        **{name: _dist_version(name) for name in extra},
    }


def render(info: dict[str, Any]) -> str:
    lines = []
    for key, value in info.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        lines.append(f"{key:15} {'not installed' if value is None else value}")
    return "\n".join(lines)
