"""Inference engines behind one small protocol: onnxruntime and PyTorch.

A backend receives the loaded samples once (``load``, untimed, NCHW float32) and keeps them
where it computes best; ``launch(positions)`` starts inference on a batch of loaded
positions and returns a ``Pending`` whose ``wait()`` gives the raw arg-max class of each
sample (before any label offset). Launch and wait are split so the runner can keep two
batches in flight on a GPU: while one computes, the host gathers the next.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from mlperf_harness.onnxruntime_session import open_session

WARMUP_ITERATIONS = 3


class Pending(Protocol):
    def wait(self) -> np.ndarray: ...


class Backend(Protocol):
    name: str
    classes: int | None

    def load(self, samples: np.ndarray) -> None: ...

    def unload(self) -> None: ...

    def launch(self, positions: np.ndarray) -> Pending: ...

    def warmup(self, batch: int) -> None: ...

    def describe(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Done:
    """A result that was computed synchronously."""

    labels: np.ndarray

    def wait(self) -> np.ndarray:
        return self.labels


@dataclass(frozen=True, slots=True)
class BackendOptions:
    model: Path
    device: str
    precision: str
    threads: int | None
    max_batch: int
    compile_mode: str | None
    data_on_device: bool
    gather_threads: int = 0
    fold_bn: bool = False


class BackendError(RuntimeError):
    """A backend cannot run as asked; the message says why and what to do."""


# --- onnxruntime -------------------------------------------------------------------------


class OnnxruntimeBackend:
    """onnxruntime on the CPU or CUDA execution provider; inputs gathered with numpy."""

    name = "onnxruntime"

    def __init__(self, options: BackendOptions) -> None:
        if options.precision != "fp32":
            raise BackendError("onnxruntime runs the model's own precision; use --precision fp32")
        self.session = open_session(options.model, options.device, options.threads)
        self.input = self.session.get_inputs()[0].name
        self.output, self.classes = _pick_output(self.session)
        self.data = np.empty((0, 3, 224, 224), np.float32)

    def load(self, samples: np.ndarray) -> None:
        self.data = samples

    def unload(self) -> None:
        self.data = np.empty((0, 3, 224, 224), np.float32)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.session.run([self.output], {self.input: batch})[0]
        return out if out.ndim == 1 else out.argmax(axis=1)

    def launch(self, positions: np.ndarray) -> Pending:
        return Done(self.predict(np.take(self.data, positions, axis=0)).astype(np.int64))

    def warmup(self, batch: int) -> None:
        zeros = np.zeros((batch, 3, 224, 224), np.float32)
        for _ in range(WARMUP_ITERATIONS):
            self.predict(zeros)

    def describe(self) -> dict[str, Any]:
        return {
            "providers": self.session.get_providers(),
            "input": self.input,
            "output": self.output,
        }


def _pick_output(session: Any) -> tuple[str, int | None]:
    """The arg-max output if the model has one (the official model's ``ArgMax:0``), else
    the first output; the class count from the first 2-D output with a fixed width."""
    outputs = session.get_outputs()
    classes = next(
        (o.shape[1] for o in outputs if len(o.shape) == 2 and isinstance(o.shape[1], int)), None
    )
    argmax = next((o.name for o in outputs if len(o.shape) == 1), None)
    return argmax or outputs[0].name, classes


# --- PyTorch -----------------------------------------------------------------------------


class TorchBackend:
    """PyTorch eager (optionally torch.compile), channels_last, fp32 or fp16 on CUDA.

    On CUDA the loaded samples stay in pinned host memory (NHWC, in the compute dtype, so
    that a gathered batch is already channels_last); each launch gathers into one of a few
    pinned staging buffers, copies it on a side stream without blocking, and returns an
    event-backed result. ``--data-on-device`` keeps the samples on the GPU instead.
    """

    name = "pytorch"
    STAGING_SLOTS = 3

    def __init__(self, options: BackendOptions) -> None:
        import torch

        from mlperf_resnet50.model_torch import fold_batchnorm, load_resnet50

        self.torch = torch
        self.options = options
        self.device = torch.device(options.device)
        self.dtype = _torch_dtype(options)
        if options.device == "cuda":
            if not torch.cuda.is_available():
                raise BackendError("torch.cuda.is_available() is False; hint: --device cpu")
            torch.backends.cudnn.benchmark = True
        if options.threads:
            torch.set_num_threads(options.threads)
        model = load_resnet50(options.model)
        if options.fold_bn:
            model = fold_batchnorm(model)
        model = model.to(self.device, self.dtype)
        self.model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.classes: int | None = int(model.fc.out_features)
        self.forward = self._compiled() if options.compile_mode else self.model
        self.data = torch.empty(0)
        self._slot = 0
        self._staging: list[Any] = []
        self._results: list[Any] = []
        self._copied: list[Any] = []
        self._copy_stream: Any = None
        self._gather_pool: ThreadPoolExecutor | None = None
        if options.gather_threads > 1:
            self._gather_pool = ThreadPoolExecutor(options.gather_threads, "gather")

    def _compiled(self) -> Callable[[Any], Any]:
        compiled: Callable[[Any], Any] = self.torch.compile(
            self.model, mode=self.options.compile_mode, dynamic=False
        )
        return compiled

    @property
    def cuda(self) -> bool:
        return self.device.type == "cuda"

    def load(self, samples: np.ndarray) -> None:
        torch = self.torch
        nhwc = torch.from_numpy(samples).permute(0, 2, 3, 1).to(self.dtype).contiguous()
        if self.cuda and self.options.data_on_device:
            self.data = nhwc.to(self.device)
        elif self.cuda:
            self.data = nhwc.pin_memory()
            self._make_staging()
        else:
            self.data = nhwc

    def _make_staging(self) -> None:
        if self._staging:
            return
        torch, batch = self.torch, self.options.max_batch
        shape = (batch, 224, 224, 3)
        self._staging = [
            torch.empty(shape, dtype=self.dtype).pin_memory() for _ in range(self.STAGING_SLOTS)
        ]
        self._results = [
            torch.empty(batch, dtype=torch.int64).pin_memory() for _ in range(self.STAGING_SLOTS)
        ]
        self._copied = [None] * self.STAGING_SLOTS
        self._copy_stream = torch.cuda.Stream()

    def unload(self) -> None:
        self.data = self.torch.empty(0)

    def buckets(self) -> list[int]:
        """The batch sizes a CUDA launch is padded to: powers of two up to the largest
        batch, so that cuDNN's autotuning (or torch.compile) sees few shapes, each tuned
        during warmup instead of inside the timed run. One size when compiling."""
        top = self.options.max_batch
        if self.options.compile_mode:
            return [top]
        sizes = [1 << i for i in range(top.bit_length()) if (1 << i) < top]
        return [*sizes, top]

    def bucket(self, n: int) -> int:
        return next(b for b in self.buckets() if b >= n) if self.cuda else n

    def _run(self, nhwc: Any, n: int) -> Any:
        """Arg-max of the first ``n`` samples of an NHWC batch (channels_last NCHW after
        the permute); rows after ``n`` are padding."""
        with self.torch.inference_mode():
            return self.forward(nhwc.permute(0, 3, 1, 2)).argmax(dim=1)[:n]

    def launch(self, positions: np.ndarray) -> Pending:
        index = self.torch.from_numpy(positions)
        if not self.cuda:
            return Done(self._run(self.data.index_select(0, index), len(positions)).numpy())
        if self.options.data_on_device:
            return self._launch_on_device(index)
        return self._launch_staged(index)

    def _launch_on_device(self, index: Any) -> Pending:
        n = int(index.shape[0])
        padded = self.torch.cat([index, index.new_zeros(self.bucket(n) - n)])
        batch = self.data.index_select(0, padded.to(self.device, non_blocking=True))
        return self._finish(self._run(batch, n), self._next_slot())

    def _next_slot(self) -> int:
        self._slot = (self._slot + 1) % self.STAGING_SLOTS
        return self._slot

    def _launch_staged(self, index: Any) -> Pending:
        torch, slot, n = self.torch, self._next_slot(), int(index.shape[0])
        if self._copied[slot] is not None:
            self._copied[slot].synchronize()  # the slot's previous copy has left the buffer
        staging = self._staging[slot]
        self._gather(index, staging[:n])
        with torch.cuda.stream(self._copy_stream):
            batch = staging[: self.bucket(n)].to(self.device, non_blocking=True)
            copied = torch.cuda.Event()
            copied.record(self._copy_stream)
        self._copied[slot] = copied
        torch.cuda.current_stream().wait_event(copied)
        batch.record_stream(torch.cuda.current_stream())
        return self._finish(self._run(batch, n), slot)

    def _gather(self, index: Any, out: Any) -> None:
        """Copy loaded samples ``index`` into the pinned ``out``: torch's index_select, or
        numpy's take split over a thread pool (take releases the GIL)."""
        if self._gather_pool is None:
            self.torch.index_select(self.data, 0, index, out=out)
            return
        source, target, positions = self.data.numpy(), out.numpy(), index.numpy()
        step = -(-len(positions) // self.options.gather_threads)
        chunks = [
            self._gather_pool.submit(
                np.take, source, positions[i : i + step], 0, target[i : i + step], "clip"
            )
            for i in range(0, len(positions), step)
        ]
        for chunk in chunks:
            chunk.result()

    def _finish(self, labels: Any, slot: int) -> Pending:
        if not self._results:
            self._make_staging()
        out = self._results[slot][: labels.shape[0]]
        out.copy_(labels, non_blocking=True)
        done = self.torch.cuda.Event()  # type: ignore[no-untyped-call]
        done.record()
        return CudaPending(done, out)

    def warmup(self, batch: int) -> None:
        """Run every bucket once (CUDA) and the given batch a few times."""
        sizes = self.buckets() if self.cuda else []
        for size in [*sizes, *[batch] * WARMUP_ITERATIONS]:
            zeros = self.torch.zeros((size, 224, 224, 3), dtype=self.dtype, device=self.device)
            self._run(zeros, size)
        if self.cuda:
            self.torch.cuda.synchronize()

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "fold_bn": self.options.fold_bn,
            "dtype": str(self.dtype),
            "memory_format": "channels_last",
            "compile_mode": self.options.compile_mode,
        }
        if self.cuda:
            info["gpu"] = self.torch.cuda.get_device_name(self.device)
            info["data_on_device"] = self.options.data_on_device
        return info


@dataclass(frozen=True, slots=True)
class CudaPending:
    event: Any
    labels: Any

    def wait(self) -> np.ndarray:
        self.event.synchronize()
        return np.array(self.labels.numpy(), copy=True)


def _torch_dtype(options: BackendOptions) -> Any:
    import torch

    if options.precision == "fp16":
        if options.device != "cuda":
            raise BackendError("--precision fp16 needs --device cuda")
        return torch.float16
    return torch.float32


def make_backend(kind: str, options: BackendOptions) -> Backend:
    """The backend named ``kind`` (onnxruntime or pytorch); checks the model's format."""
    suffix = options.model.suffix
    if kind == "onnxruntime":
        if suffix != ".onnx":
            raise BackendError(f"{options.model}: onnxruntime needs an .onnx model")
        return OnnxruntimeBackend(options)
    if kind == "pytorch":
        if suffix not in (".pth", ".pt", ".npz"):
            raise BackendError(f"{options.model}: pytorch needs a .pth or .npz weights file")
        return TorchBackend(options)
    raise BackendError(f"unknown backend {kind!r}; expected onnxruntime or pytorch")
