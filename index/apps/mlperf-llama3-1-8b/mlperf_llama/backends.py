"""Llama engines. Each holds the prompt table, is handed the loaded samples (their indices)
and answers ``generate(position, on_first)`` with the output token ids (int32), greedy as
the reference decodes (``do_sample=False``), up to ``max_new_tokens``, EOS included when
the model emits it; ``on_first(token)`` is called when the first token exists.

- ``transformers``: ``AutoModelForCausalLM`` (the official checkpoint or the synthetic tiny
  Llama) with ``generate`` and a streamer that sees the first token as it is produced;
  float32 on the CPU, bfloat16 on CUDA. One prompt at a time: no padding, so an output is
  the same whatever else is being served (the synthetic set's references rely on it).
- ``vllm``: ``vllm.LLM`` (CUDA only). Its offline API returns whole outputs, so the first
  token is reported when the output is complete: TTFT is then an upper bound. Never run
  on this project's machines (no GPU); see docs/mlperf.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from mlperf_harness.sut import Done, Pending


class BackendError(RuntimeError):
    """A backend cannot run as asked; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Options:
    model: Path
    device: str
    threads: int | None
    max_new_tokens: int


class _FirstToken:
    """A ``generate`` streamer: its first ``put`` is the prompt, the second the first
    generated token."""

    def __init__(self, on_first: Callable[[int], None]) -> None:
        self.on_first = on_first
        self.calls = 0

    def put(self, value: Any) -> None:
        self.calls += 1
        if self.calls == 2:
            self.on_first(int(value.reshape(-1)[0]))

    def end(self) -> None:
        pass


def greedy(
    model: Any, prompt: list[int], max_new_tokens: int, on_first: Callable[[int], None]
) -> np.ndarray:
    """The output token ids of one prompt under greedy decoding."""
    import torch

    ids = torch.tensor([prompt], dtype=torch.long, device=model.device)
    with torch.inference_mode():
        out = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            streamer=_FirstToken(on_first),
            pad_token_id=model.generation_config.pad_token_id,
        )
    return np.asarray(out[0, len(prompt) :].cpu().numpy(), dtype=np.int32)


class _Loaded:
    """The prompt table and the loaded samples (dataset indices by loaded position)."""

    def __init__(self, prompts: list[list[int]]) -> None:
        self.prompts = prompts
        self.loaded = np.zeros(0, np.int64)

    def load(self, samples: np.ndarray) -> None:
        self.loaded = samples[:, 0]

    def unload(self) -> None:
        self.loaded = np.zeros(0, np.int64)

    def prompt(self, position: int) -> list[int]:
        return self.prompts[int(self.loaded[position])]


class TransformersBackend(_Loaded):
    def __init__(self, options: Options, prompts: list[list[int]]) -> None:
        super().__init__(prompts)
        import torch
        from transformers import AutoModelForCausalLM

        if options.threads:
            torch.set_num_threads(options.threads)
        dtype = torch.float32 if options.device == "cpu" else torch.bfloat16
        model = AutoModelForCausalLM.from_pretrained(str(options.model), dtype=dtype)
        self.model = model.to(torch.device(options.device)).eval()
        self.max_new_tokens = options.max_new_tokens
        self.torch = torch

    def generate(self, position: int, on_first: Callable[[int], None]) -> np.ndarray:
        return greedy(self.model, self.prompt(position), self.max_new_tokens, on_first)

    def launch(self, positions: np.ndarray) -> Pending:
        counts = [len(self.generate(int(p), lambda _t: None)) for p in positions]
        return Done(np.asarray(counts, dtype=np.int64))

    def warmup(self, batch: int) -> None:
        greedy(self.model, self.prompts[0], 2, lambda _t: None)

    def describe(self) -> dict[str, Any]:
        return {
            "torch": self.torch.__version__,
            "device": str(self.model.device),
            "dtype": str(self.model.dtype),
            "max_new_tokens": self.max_new_tokens,
        }


class VllmBackend(_Loaded):
    def __init__(self, options: Options, prompts: list[list[int]]) -> None:
        super().__init__(prompts)
        if options.device != "cuda":
            raise BackendError("the vllm backend runs on CUDA only; hint: --device cuda")
        from vllm import LLM, SamplingParams

        self.llm = LLM(model=str(options.model), dtype="bfloat16", skip_tokenizer_init=True)
        self.params = SamplingParams(temperature=0.0, max_tokens=options.max_new_tokens)
        self.max_new_tokens = options.max_new_tokens

    def generate(self, position: int, on_first: Callable[[int], None]) -> np.ndarray:
        from vllm.inputs import TokensPrompt

        done = self.llm.generate(TokensPrompt(prompt_token_ids=self.prompt(position)), self.params)
        out = np.asarray(done[0].outputs[0].token_ids, dtype=np.int32)
        if len(out):
            on_first(int(out[0]))
        return out

    def launch(self, positions: np.ndarray) -> Pending:
        counts = [len(self.generate(int(p), lambda _t: None)) for p in positions]
        return Done(np.asarray(counts, dtype=np.int64))

    def warmup(self, batch: int) -> None:
        self.loaded = np.zeros(1, np.int64)
        self.generate(0, lambda _t: None)
        self.unload()

    def describe(self) -> dict[str, Any]:
        import vllm

        return {"vllm": vllm.__version__, "max_new_tokens": self.max_new_tokens}


def make_backend(kind: str, options: Options, prompts: list[list[int]]) -> Any:
    if kind == "transformers":
        return TransformersBackend(options, prompts)
    if kind == "vllm":
        return VllmBackend(options, prompts)
    raise BackendError(f"unknown backend {kind!r}")
