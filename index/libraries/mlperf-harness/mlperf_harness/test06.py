"""TEST06, the LLM output consistency test (pure; numpy only).

The checks of mlcommons/inference ``compliance/nvidia/TEST06/run_verification.py`` over
the accuracy log of a TEST06 run (its audit.config logs 100 samples of a performance run):

- first token: where the first token was reported on its own (``token_data``; not in
  Offline), it is the first token of the output;
- EOS: an output ends with at most one EOS token (two only as the whole output);
- sample length: the reported token count (``token_count``) is the output's length.

The result lines are the script's, so the submission checker reads ``verify_accuracy.txt``
as it reads the official one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlperf_harness.accuracy_log import read_entries


@dataclass(frozen=True, slots=True)
class Verdict:
    first_token: bool | None  # None: skipped (Offline)
    eos: bool
    sample_length: bool
    samples: int

    @property
    def passed(self) -> bool:
        return self.first_token is not False and self.eos and self.sample_length

    def text(self) -> str:
        first = "Skipped" if self.first_token is None else str(self.first_token)
        end = "TEST06 verification complete" if self.passed else "TEST06 verification failed"
        return (
            f"First token check pass: {first}\nEOS check pass: {self.eos}\n"
            f"Sample length check pass: {self.sample_length}\n{end}\n"
        )


def _tokens(entry: dict[str, Any], key: str, dtype: np.dtype[Any]) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(str(entry[key])), dtype=dtype)


def eos_ok(data: np.ndarray, eos: int) -> bool:
    trailing = 0
    for token in data[::-1]:
        if token != eos:
            break
        trailing += 1
    return trailing < 2 or len(data) == 2


def first_token_ok(entry: dict[str, Any], dtype: np.dtype[Any]) -> bool:
    data, first = _tokens(entry, "data", dtype), _tokens(entry, "token_data", dtype)
    return bool(np.array_equal(data[: len(first)], first))


def verify(entries: list[dict[str, Any]], scenario: str, eos: int, dtype: str) -> Verdict:
    kind = np.dtype(dtype)
    outputs = [_tokens(e, "data", kind) for e in entries]
    first = None if scenario == "Offline" else all(first_token_ok(e, kind) for e in entries)
    return Verdict(
        first_token=first,
        eos=all(eos_ok(o, eos) for o in outputs),
        sample_length=all(
            len(o) == int(e["token_count"]) for o, e in zip(outputs, entries, strict=True)
        ),
        samples=len(entries),
    )


def verify_run(test_dir: Path, log: Path, scenario: str, eos: int, dtype: str) -> dict[str, Any]:
    """Verify a TEST06 run's log; write ``verify_accuracy.txt`` beside its audit.config."""
    verdict = verify(read_entries(log), scenario, eos, dtype)
    (test_dir / "verify_accuracy.txt").write_text(verdict.text())
    return {
        "test": "TEST06",
        "passed": verdict.passed,
        "first_token": verdict.first_token,
        "eos": verdict.eos,
        "sample_length": verdict.sample_length,
        "samples": verdict.samples,
        "file": str(test_dir / "verify_accuracy.txt"),
    }
