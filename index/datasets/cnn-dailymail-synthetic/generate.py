"""A CNN-DailyMail-shaped set whose reference summaries are the synthetic model's own.

Each record has the fields the app reads from the round's ``cnn_eval.json``: ``input`` (an
"article" of the synthetic language's words), ``instruction``, ``tok_input`` (the prompt's
token ids with the model's tokenizer: BOS, then the instruction and the article) and
``output`` (the reference summary). The reference is the model's greedy output for that
prompt, decoded without special tokens, so an accuracy run of the app on the same model
gives ROUGE at its maximum (100); records whose output has fewer than two ROUGE tokens (as
``rouge_score`` tokenizes) are skipped: without a bigram a summary's ROUGE-2 against itself
is 0, not 100. ``synthetic.json`` records the generation limit and the total output tokens
(``gen_tok_len``); the generation-length check's reference is the references' own length,
which the app measures as the round does.

    python generate.py --model DIR --out DIR [--count 64] [--seed 0] [--max-new-tokens 32]
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

INSTRUCTION = "Summarize the following news article in a few sentences."


class _FirstToken:
    """The app's streamer (mlperf_llama.backends): generation must take the same path."""

    def __init__(self, on_first: Callable[[int], None]) -> None:
        self.on_first, self.calls = on_first, 0

    def put(self, value: Any) -> None:
        self.calls += 1
        if self.calls == 2:
            self.on_first(int(value.reshape(-1)[0]))

    def end(self) -> None:
        pass


def greedy(model: Any, prompt: list[int], max_new_tokens: int) -> np.ndarray:
    """Exactly mlperf_llama.backends.greedy: one prompt, no padding, do_sample=False."""
    import torch

    ids = torch.tensor([prompt], dtype=torch.long, device=model.device)
    with torch.inference_mode():
        out = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            streamer=_FirstToken(lambda _t: None),
            pad_token_id=model.generation_config.pad_token_id,
        )
    return np.asarray(out[0, len(prompt) :].cpu().numpy(), dtype=np.int32)


def article(rng: random.Random, words: list[str]) -> str:
    sentences = []
    for _ in range(rng.randint(2, 5)):
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(5, 12)))
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
    return " ".join(sentences)


def build(model_dir: Path, out: Path, count: int, seed: int, max_new_tokens: int) -> None:
    import torch
    from nltk.stem import porter
    from rouge_score import tokenize
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM

    stemmer = porter.PorterStemmer()  # rouge_score's tokenizer, as RougeScorer(use_stemmer=True)

    torch.manual_seed(seed)
    # One prompt at a time through a 64-wide model: a second intra-op thread only waits on
    # the first (16 records on this project's loaded 2-core VM: 68 s with one, 138 s with
    # torch's default of two; the same bytes). The app runs it with one too (CMPKG_LLAMA_THREADS).
    torch.set_num_threads(1)
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32).eval()
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    bos = int(model.config.bos_token_id)
    words = json.loads((model_dir / "words.json").read_text())
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    while len(records) < count:
        text = article(rng, words)
        prompt = [bos, *tokenizer.encode(f"{INSTRUCTION}\n\nArticle:\n{text}\n\nSummary:").ids]
        tokens = greedy(model, prompt, max_new_tokens)
        summary = tokenizer.decode(tokens.tolist(), skip_special_tokens=True).strip()
        if len(tokenize.tokenize(summary, stemmer)) < 2:  # no bigram: its ROUGE-2 would be 0
            continue
        record = {"instruction": INSTRUCTION, "input": text, "tok_input": prompt}
        records.append(record | {"output": summary, "gen_tokens": len(tokens)})
    out.mkdir(parents=True, exist_ok=True)
    (out / "cnn_eval.json").write_text(json.dumps(records, indent=1) + "\n")
    meta = {
        "seed": seed,
        "samples": count,
        "max_new_tokens": max_new_tokens,
        "gen_tok_len": sum(r["gen_tokens"] for r in records),
    }
    (out / "synthetic.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--count", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-new-tokens", type=int, default=32)
    args = p.parse_args()
    build(args.model, args.out, args.count, args.seed, args.max_new_tokens)


if __name__ == "__main__":
    main()
