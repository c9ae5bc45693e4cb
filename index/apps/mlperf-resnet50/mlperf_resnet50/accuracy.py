"""Top-1 accuracy from LoadGen's accuracy log (pure; standard library only).

Each logged response carries the predicted label as one little-endian float32 (the
reference harness's encoding, also what its ``tools/accuracy-imagenet.py`` reads by
default), already shifted by the model's label offset. ``qsl_idx`` indexes ``val_map.txt``;
the harness hands each sample's response once, as the reference tool counts it.
"""

from __future__ import annotations

import struct

from mlperf_harness.report import Score


def decode_label(raw: bytes) -> int:
    """The label in one response (float32 as the SUT writes it; int64 also read)."""
    if len(raw) == 8:
        return int(struct.unpack("<q", raw)[0])
    return int(struct.unpack("<f", raw[:4])[0])


def score(samples: dict[int, bytes], labels: list[int]) -> Score:
    good = sum(decode_label(raw) == labels[idx] for idx, raw in samples.items())
    total = len(samples)
    top1 = 100.0 * good / total if total else 0.0
    return Score(
        metric="top1",
        value=top1,
        details={"good": good, "total": total},
        # the reference accuracy-imagenet.py's line, which the submission checker matches
        lines=[f"accuracy={top1:.3f}%, good={good}, total={total}"],
        text=f"top-1: {top1:.3f}% ({good}/{total})",
    )
