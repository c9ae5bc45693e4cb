"""A tiny BERT for SQuAD question answering with random weights from a seed, in ONNX.

The real BERT architecture (word + position + token-type embeddings, LayerNorm, encoder
layers of multi-head self-attention with the padding mask and a GELU feed-forward, each
with a residual and LayerNorm, then a 2-wide QA head) at reduced size, with the interface
of MLCommons' ``model.onnx`` (BERT-Large, SQuAD v1.1): inputs ``input_ids``,
``input_mask``, ``segment_ids`` int64 [N, 384]; outputs ``output_start_logits``,
``output_end_logits`` float32 [N, 384]. Also writes ``vocab.txt`` (BERT's special tokens,
punctuation and seeded made-up words: the synthetic SQuAD set is written in them) and
``model.json``. Built with numpy and onnx.helper only; byte-identical for one seed.
Exit 0 on success, 2 on bad flags.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx_graph

SEQ = 384
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PUNCTUATION = [".", ",", "?", "!", "'", "-", "(", ")"]
SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"]
OPSET = 17


def vocabulary(rng: np.random.Generator, words: int) -> list[str]:
    """Specials, punctuation, then distinct lowercase words of 2-4 syllables."""
    found: list[str] = []
    seen: set[str] = set()
    while len(found) < words:
        word = "".join(rng.choice(SYLLABLES, size=int(rng.integers(2, 5))))
        if word not in seen:
            seen.add(word)
            found.append(word)
    return SPECIALS + PUNCTUATION + found


class Graph(onnx_graph.Graph):
    """The shared graph, with this model's layers."""

    def normal(self, stem: str, shape: tuple[int, ...], std: float) -> str:
        return self.const(stem, (self.rng.standard_normal(shape) * std).astype(np.float32))

    def dense(self, x: str, width_in: int, width_out: int, std: float = 0.02) -> str:
        w = self.normal("w", (width_in, width_out), std)
        b = self.const("b", np.zeros(width_out, np.float32))
        return self.op("Add", [self.op("MatMul", [x, w]), b])

    def layer_norm(self, x: str, width: int) -> str:
        scale = self.const("ln_scale", np.ones(width, np.float32))
        bias = self.const("ln_bias", np.zeros(width, np.float32))
        return self.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=1e-12)

    def gelu(self, x: str) -> str:
        """0.5 x (1 + erf(x / sqrt 2)), BERT's exact GELU."""
        scaled = self.op("Div", [x, self.const("sqrt2", np.array(np.sqrt(2.0), np.float32))])
        one = self.op(
            "Add", [self.op("Erf", [scaled]), self.const("one", np.array(1.0, np.float32))]
        )
        half = self.op("Mul", [x, self.const("half", np.array(0.5, np.float32))])
        return self.op("Mul", [half, one])


def attention(g: Graph, x: str, mask_bias: str, hidden: int, heads: int) -> str:
    size = hidden // heads
    split = g.const("shape", np.array([0, SEQ, heads, size], np.int64))

    def project() -> str:
        return g.op(
            "Transpose", [g.op("Reshape", [g.dense(x, hidden, hidden), split])], perm=[0, 2, 1, 3]
        )

    q, k, v = project(), project(), project()
    scores = g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])])
    scores = g.op("Div", [scores, g.const("scale", np.array(np.sqrt(size), np.float32))])
    probs = g.op("Softmax", [g.op("Add", [scores, mask_bias])], axis=-1)
    context = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
    merged = g.op("Reshape", [context, g.const("shape", np.array([0, SEQ, hidden], np.int64))])
    return g.dense(merged, hidden, hidden)


def encoder_layer(g: Graph, x: str, mask_bias: str, hidden: int, heads: int, ffn: int) -> str:
    x = g.layer_norm(g.op("Add", [x, attention(g, x, mask_bias, hidden, heads)]), hidden)
    inner = g.gelu(g.dense(x, hidden, ffn))
    return g.layer_norm(g.op("Add", [x, g.dense(inner, ffn, hidden)]), hidden)


def build(
    seed: int, words: int, hidden: int, layers: int, heads: int, ffn: int
) -> tuple[bytes, list[str]]:
    from onnx import TensorProto, helper

    rng = np.random.default_rng(seed)
    vocab = vocabulary(rng, words)
    g = Graph(rng)
    ids, mask, segments = "input_ids", "input_mask", "segment_ids"
    positions = g.const("positions", np.arange(SEQ, dtype=np.int64))
    embedded = g.op(
        "Add",
        [
            g.op(
                "Add",
                [
                    g.op("Gather", [g.normal("word_emb", (len(vocab), hidden), 1.0), ids]),
                    g.op("Gather", [g.normal("pos_emb", (SEQ, hidden), 0.5), positions]),
                ],
            ),
            g.op("Gather", [g.normal("type_emb", (2, hidden), 0.5), segments]),
        ],
    )
    x = g.layer_norm(embedded, hidden)
    # padding positions get -10000 before the softmax, as in BERT: [N, 1, 1, SEQ]
    keep = g.op(
        "Cast",
        [g.op("Unsqueeze", [mask, g.const("axes", np.array([1, 2], np.int64))])],
        to=TensorProto.FLOAT,
    )
    one = g.const("one", np.array(1.0, np.float32))
    mask_bias = g.op(
        "Mul", [g.op("Sub", [one, keep]), g.const("neg", np.array(-10000.0, np.float32))]
    )
    for _ in range(layers):
        x = encoder_layer(g, x, mask_bias, hidden, heads, ffn)
    # a wide QA head, so start/end logits are well apart (no near-ties between positions)
    logits = g.dense(x, hidden, 2, std=1.0)
    start, end = g.name("start"), g.name("end")
    g.nodes.append(
        helper.make_node(
            "Split", [logits, g.const("split", np.array([1, 1], np.int64))], [start, end], axis=2
        )
    )
    g.nodes.append(
        helper.make_node(
            "Squeeze", [start, g.const("axes", np.array([2], np.int64))], ["output_start_logits"]
        )
    )
    g.nodes.append(
        helper.make_node(
            "Squeeze", [end, g.const("axes", np.array([2], np.int64))], ["output_end_logits"]
        )
    )
    inputs = [
        helper.make_tensor_value_info(n, TensorProto.INT64, ["N", SEQ])
        for n in (ids, mask, segments)
    ]
    outputs = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", SEQ])
        for n in ("output_start_logits", "output_end_logits")
    ]
    return g.serialize("bert_synthetic", inputs, outputs, OPSET), vocab


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--words", type=int, default=600, help="made-up words in the vocabulary")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=2)
    p.add_argument("--ffn", type=int, default=256, help="feed-forward width")
    args = p.parse_args(argv)
    if args.hidden % args.heads:
        print("error: --hidden must be a multiple of --heads", file=sys.stderr)
        return 2
    data, vocab = build(args.seed, args.words, args.hidden, args.layers, args.heads, args.ffn)
    meta = {
        "architecture": "bert",
        "seed": args.seed,
        "hidden": args.hidden,
        "layers": args.layers,
        "heads": args.heads,
        "ffn": args.ffn,
        "vocab_size": len(vocab),
        "max_seq_length": SEQ,
    }
    path = onnx_graph.write_model(args.out, data, meta)
    (args.out / "vocab.txt").write_text("".join(f"{t}\n" for t in vocab))
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
