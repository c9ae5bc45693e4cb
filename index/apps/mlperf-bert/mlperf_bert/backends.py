"""BERT engines: each takes loaded features (int64 [n, 3, 384]) and answers a batch of
loaded positions with float32 [batch, 384, 2] start/end logits (the reference's response).

- ``onnxruntime``: MLCommons' ``model.onnx`` or the synthetic one (inputs ``input_ids``,
  ``input_mask``, ``segment_ids``; outputs ``output_start_logits``, ``output_end_logits``),
  on the CPU or CUDA execution provider.
- ``pytorch``: MLCommons' ``model.pytorch`` (a BERT-Large ``state_dict``) in
  ``transformers``' BertForQuestionAnswering, as the reference's pytorch_SUT builds it.
  Not run on this project's machines (no torch in the tests); see docs/mlperf.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mlperf_harness.benchmark import EngineOptions
from mlperf_harness.onnxruntime_session import open_session
from mlperf_harness.sut import Done, Pending

INPUTS = ("input_ids", "input_mask", "segment_ids")
OUTPUTS = ("output_start_logits", "output_end_logits")
# BERT-Large as the reference's bert_config.json describes it.
BERT_LARGE = {
    "hidden_size": 1024,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "intermediate_size": 4096,
    "vocab_size": 30522,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
}


class BackendError(RuntimeError):
    """A backend cannot run as asked; the message says why and what to do."""


class OnnxBackend:
    def __init__(self, options: EngineOptions) -> None:
        self.session = open_session(options.model, options.device, options.threads)
        names = {i.name for i in self.session.get_inputs()}
        if names != set(INPUTS):
            raise BackendError(f"{options.model}: inputs {sorted(names)}, expected {list(INPUTS)}")
        self.data = np.zeros((0, 3, 384), np.int64)

    def load(self, samples: np.ndarray) -> None:
        self.data = samples

    def unload(self) -> None:
        self.data = np.zeros((0, 3, 384), np.int64)

    def run(self, batch: np.ndarray) -> np.ndarray:
        feed = {name: batch[:, i] for i, name in enumerate(INPUTS)}
        start, end = self.session.run(list(OUTPUTS), feed)
        return np.stack([start, end], axis=-1).astype(np.float32)

    def launch(self, positions: np.ndarray) -> Pending:
        return Done(self.run(np.take(self.data, positions, axis=0)))

    def warmup(self, batch: int) -> None:
        self.run(np.zeros((batch, 3, 384), np.int64))

    def describe(self) -> dict[str, Any]:
        return {"providers": self.session.get_providers(), "inputs": list(INPUTS)}


class TorchBackend:
    def __init__(self, options: EngineOptions) -> None:
        import torch
        from transformers import BertConfig, BertForQuestionAnswering

        self.torch = torch
        self.device = torch.device(options.device)
        model = BertForQuestionAnswering(BertConfig(**BERT_LARGE))
        state = torch.load(str(options.model), map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=False)
        self.model = model.to(self.device).eval()
        self.data: Any = None

    def load(self, samples: np.ndarray) -> None:
        self.data = self.torch.from_numpy(samples).to(self.device)

    def unload(self) -> None:
        self.data = None

    def launch(self, positions: np.ndarray) -> Pending:
        with self.torch.inference_mode():
            batch = self.data[self.torch.from_numpy(positions).to(self.device)]
            out = self.model(
                input_ids=batch[:, 0], attention_mask=batch[:, 1], token_type_ids=batch[:, 2]
            )
            logits = self.torch.stack([out.start_logits, out.end_logits], dim=-1)
        return Done(logits.float().cpu().numpy())

    def warmup(self, batch: int) -> None:
        self.load(np.zeros((batch, 3, 384), np.int64))
        self.launch(np.arange(batch)).wait()
        self.unload()

    def describe(self) -> dict[str, Any]:
        return {"torch": self.torch.__version__, "device": str(self.device)}


def make_backend(kind: str, options: EngineOptions) -> Any:
    if kind == "onnxruntime":
        return OnnxBackend(options)
    if kind == "pytorch":
        return TorchBackend(options)
    raise BackendError(f"unknown backend {kind!r}")
