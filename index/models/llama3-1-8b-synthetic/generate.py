"""A tiny Llama with seeded random weights and a locally trained tokenizer, without torch.

The real architecture (transformers' ``LlamaForCausalLM``: RMSNorm, rotary embeddings,
grouped-query attention, SwiGLU) at a size that generates in milliseconds on a CPU, written
in the Hugging Face layout the official checkpoint has (config.json, model.safetensors,
tokenizer.json, tokenizer_config.json, special_tokens_map.json, generation_config.json), so
the app loads both the same way. Nothing here needs torch or transformers: the weights are
numpy arrays written with safetensors' numpy API, the JSON files are written as the
official checkpoint spells them, so this step's tool environment is numpy, safetensors and
tokenizers (tens of MB) instead of a multi-GB torch build.

The weights follow ``LlamaPreTrainedModel``'s initialisation: every projection and the
embedding drawn from N(0, initializer_range), the embedding's padding row zero, the RMSNorm
scales one. The tokenizer is a byte-level BPE trained with ``tokenizers`` on a corpus of
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
from typing import Any

import numpy as np

BOS, EOS, PAD = "<|begin_of_text|>", "<|eot_id|>", "<|pad|>"
VOCAB = 384
WORDS = 600  # the made-up vocabulary the corpus (and the synthetic articles) use
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
INIT_STD = 0.02  # LlamaConfig's initializer_range
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


def train_tokenizer(seed: int) -> Any:
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


def normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """N(0, INIT_STD) float32 by Box-Muller from the generator's uniform doubles: those are
    its raw bits scaled (stable across numpy releases), where numpy does not promise its
    ``normal`` sampler's stream from one release to the next."""
    count = int(np.prod(shape))
    u1, u2 = rng.random(count), rng.random(count)
    z = np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)
    return (z * INIT_STD).astype(np.float32).reshape(shape)


def weights(seed: int, vocab: int, pad: int) -> dict[str, np.ndarray]:
    """Every tensor ``LlamaForCausalLM`` loads, by its state-dict name (untied lm_head)."""
    rng = np.random.default_rng(seed)
    hidden, inner = SHAPE["hidden_size"], SHAPE["intermediate_size"]
    head_dim = hidden // SHAPE["num_attention_heads"]
    kv = SHAPE["num_key_value_heads"] * head_dim
    ones = np.ones(hidden, np.float32)
    out = {"model.embed_tokens.weight": normal(rng, (vocab, hidden))}
    out["model.embed_tokens.weight"][pad] = 0.0  # nn.Embedding(padding_idx=pad) init
    for i in range(int(SHAPE["num_hidden_layers"])):
        layer = f"model.layers.{i}"
        shapes = {
            "self_attn.q_proj": (hidden, hidden),
            "self_attn.k_proj": (kv, hidden),
            "self_attn.v_proj": (kv, hidden),
            "self_attn.o_proj": (hidden, hidden),
            "mlp.gate_proj": (inner, hidden),
            "mlp.up_proj": (inner, hidden),
            "mlp.down_proj": (hidden, inner),
        }
        out |= {f"{layer}.{name}.weight": normal(rng, shape) for name, shape in shapes.items()}
        out[f"{layer}.input_layernorm.weight"] = ones.copy()
        out[f"{layer}.post_attention_layernorm.weight"] = ones.copy()
    out["model.norm.weight"] = ones.copy()
    out["lm_head.weight"] = normal(rng, (vocab, hidden))
    return out


def config(vocab: int, ids: dict[str, int]) -> dict[str, Any]:
    """config.json in the official checkpoint's (transformers 4.x) spelling, which
    transformers 4 and 5 both read: ``rope_theta`` and ``torch_dtype`` at the top level."""
    return {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": ids[BOS],
        "eos_token_id": ids[EOS],
        "pad_token_id": ids[PAD],
        "head_dim": SHAPE["hidden_size"] // SHAPE["num_attention_heads"],
        "hidden_act": "silu",
        "initializer_range": INIT_STD,
        "mlp_bias": False,
        "model_type": "llama",
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-06,
        "rope_scaling": None,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "use_cache": True,
        "vocab_size": vocab,
        **SHAPE,
    }


def tokenizer_files(ids: dict[str, int]) -> dict[str, dict[str, Any]]:
    """What ``PreTrainedTokenizerFast.save_pretrained`` writes beside tokenizer.json."""
    special = {"bos_token": BOS, "eos_token": EOS, "pad_token": PAD}
    added = {
        str(ids[t]): {
            "content": t,
            "lstrip": False,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
            "special": True,
        }
        for t in (BOS, EOS, PAD)
    }
    tokenizer_config = {
        "added_tokens_decoder": added,
        "clean_up_tokenization_spaces": False,
        "model_max_length": SHAPE["max_position_embeddings"],
        "tokenizer_class": "PreTrainedTokenizerFast",
        **special,
    }
    return {"tokenizer_config.json": tokenizer_config, "special_tokens_map.json": special}


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n")


def build(out: Path, seed: int) -> None:
    from safetensors.numpy import save_file

    out.mkdir(parents=True, exist_ok=True)
    raw = train_tokenizer(seed)
    raw.save(str(out / "tokenizer.json"))
    ids = {t: int(raw.token_to_id(t)) for t in (BOS, EOS, PAD)}
    vocab = int(raw.get_vocab_size(with_added_tokens=True))
    save_file(weights(seed, vocab, ids[PAD]), str(out / "model.safetensors"), {"format": "pt"})
    _write_json(out / "config.json", config(vocab, ids))
    generation = {"bos_token_id": ids[BOS], "eos_token_id": ids[EOS], "pad_token_id": ids[PAD]}
    _write_json(out / "generation_config.json", generation | {"do_sample": False})
    for name, value in tokenizer_files(ids).items():
        _write_json(out / name, value)
    (out / "words.json").write_text(json.dumps(words(seed)))
    meta = {"seed": seed, "vocab_size": vocab, **SHAPE, "special": ids}
    (out / "synthetic.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    build(args.out, args.seed)


if __name__ == "__main__":
    main()
