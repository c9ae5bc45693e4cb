"""A tiny Llama with seeded random weights and a locally trained tokenizer.

The real architecture (transformers' ``LlamaForCausalLM``: RMSNorm, rotary embeddings,
grouped-query attention, SwiGLU) at a size that generates in milliseconds on a CPU, saved in
the Hugging Face layout the official checkpoint has (config.json, model.safetensors,
tokenizer.json, tokenizer_config.json, generation_config.json), so the app loads both the
same way. The tokenizer is a byte-level BPE trained with ``tokenizers`` on a corpus of
made-up words drawn from the seed; its special tokens are spelled as Llama 3's
(``<|begin_of_text|>``, ``<|eot_id|>``). Everything follows from ``--seed``: the same seed
gives the same files, byte for byte.

    python generate.py --out DIR [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

BOS, EOS, PAD = "<|begin_of_text|>", "<|eot_id|>", "<|pad|>"
VOCAB = 384
WORDS = 600  # the made-up vocabulary the corpus (and the synthetic articles) use
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
# Small enough for 2 CPU cores, large enough to be the real thing (GQA: 4 heads, 2 KV heads).
SHAPE = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 1024,
    "rope_theta": 500000.0,
}


def words(seed: int) -> list[str]:
    """The synthetic language's words: 2-4 syllables each, distinct, from the seed."""
    rng = random.Random(seed)
    found: dict[str, None] = {}
    while len(found) < WORDS:
        found["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))] = None
    return list(found)


def corpus(seed: int, lines: int = 2000) -> list[str]:
    rng = random.Random(seed + 1)
    vocab = words(seed)
    return [" ".join(rng.choice(vocab) for _ in range(rng.randint(8, 24))) for _ in range(lines)]


def train_tokenizer(seed: int) -> object:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB,
        special_tokens=[BOS, EOS, PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus(seed), trainer=trainer)
    return tok


def build(out: Path, seed: int) -> None:
    import torch
    from transformers import (
        GenerationConfig,
        LlamaConfig,
        LlamaForCausalLM,
        PreTrainedTokenizerFast,
    )

    out.mkdir(parents=True, exist_ok=True)
    raw = train_tokenizer(seed)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw, bos_token=BOS, eos_token=EOS, pad_token=PAD
    )
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in (BOS, EOS, PAD)}
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        bos_token_id=ids[BOS],
        eos_token_id=ids[EOS],
        pad_token_id=ids[PAD],
        tie_word_embeddings=False,
        **SHAPE,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    GenerationConfig(
        bos_token_id=ids[BOS], eos_token_id=ids[EOS], pad_token_id=ids[PAD], do_sample=False
    ).save_pretrained(out)
    (out / "words.json").write_text(json.dumps(words(seed)))
    meta = {"seed": seed, "vocab_size": len(tokenizer), **SHAPE, "special": ids}
    (out / "synthetic.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    build(args.out, args.seed)


if __name__ == "__main__":
    main()
